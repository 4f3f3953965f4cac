// Level 3's score (scoreInvestigation) from plain values: every expected number is worked out by
// hand in the test. The rule: 1000 points shared between the malware caught, 150 off for each
// legitimate process isolated, 200 off for each attempt on a critical one, between 0 and 1000,
// as a share of the level's max_score (rounded once).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PROCESSES, forDifficulty, scoreInvestigation } from '../../app/static/js/simulated-pc/levels/level-3.js';

// Six processes, made up for the test: three malware, three legitimate (one critical).
const MACHINE = [
  { pid: 1, malicious: true, critical: false },
  { pid: 2, malicious: true, critical: false },
  { pid: 3, malicious: true, critical: false },
  { pid: 10, malicious: false, critical: false },
  { pid: 11, malicious: false, critical: false },
  { pid: 12, malicious: false, critical: true },
];
const score = (isolated, criticalAttempts, maxScore) =>
  scoreInvestigation(MACHINE, new Set(isolated), criticalAttempts, maxScore).score;

test('a perfect investigation scores exactly the max_score passed in', () => {
  for (const maxScore of [1000, 1500, 200]) assert.equal(score([1, 2, 3], 0, maxScore), maxScore);
});

test('isolating nothing scores 0', () => {
  for (const maxScore of [1000, 1500, 200]) assert.equal(score([], 0, maxScore), 0);
});

test('a partial investigation scores its share, less the penalties, of the max_score', () => {
  // Two of three malware, one legitimate isolated, one attempt on a critical process:
  // 1000 x 2/3 - 150 - 200 = 316.67, rounded 317;
  // 1500 x 2/3 - 1500 x 0.15 - 1500 x 0.2 = 1000 - 225 - 300 = 475;
  // 200 x 2/3 - 30 - 40 = 63.33, rounded 63.
  assert.equal(score([1, 2, 10], 1, 1000), 317);
  assert.equal(score([1, 2, 10], 1, 1500), 475);
  assert.equal(score([1, 2, 10], 1, 200), 63);
  // One of three malware, nothing else: 1000 / 3 = 333.33 -> 333; 200 / 3 = 66.67 -> 67; 1500 / 3 = 500.
  assert.equal(score([1], 0, 1000), 333);
  assert.equal(score([1], 0, 200), 67);
  assert.equal(score([1], 0, 1500), 500);
});

test('isolating everything does not pay', () => {
  // All three malware and both ordinary legitimate processes, and a try at the critical one
  // (Windows refuses it): 1000 - 2 x 150 - 200 = 500; 1500 - 2 x 225 - 300 = 750; 200 - 2 x 30 - 40 = 100.
  assert.equal(score([1, 2, 3, 10, 11], 1, 1000), 500);
  assert.equal(score([1, 2, 3, 10, 11], 1, 1500), 750);
  assert.equal(score([1, 2, 3, 10, 11], 1, 200), 100);
});

test('the penalties never take the score below 0', () => {
  // One of three malware, two legitimate isolated, one critical attempt: 333.33 - 300 - 200 < 0.
  for (const maxScore of [1000, 1500, 200]) assert.equal(score([1, 10, 11], 1, maxScore), 0);
  // Without the critical attempt: 333.33 - 300 = 33.33 -> 33 (of 1000); 500 - 450 = 50 (of 1500).
  assert.equal(score([1, 10, 11], 0, 1000), 33);
  assert.equal(score([1, 10, 11], 0, 1500), 50);
});

test('the feedback shows the parts as score on the same scale', () => {
  const of1500 = scoreInvestigation(MACHINE, new Set([1, 2, 10]), 1, 1500);
  // 1500 x 2/3 = 1000 for the malware; 150 of 1000 points = 225 of 1500; 200 of 1000 = 300 of 1500.
  assert.equal(of1500.malwareScore, 1000);
  assert.equal(of1500.wrongIsolationCost, 225);
  assert.equal(of1500.criticalAttemptCost, 300);
  assert.deepEqual(of1500.caught.map((p) => p.pid), [1, 2]);
  assert.deepEqual(of1500.missed.map((p) => p.pid), [3]);
  assert.deepEqual(of1500.disrupted.map((p) => p.pid), [10]);
  const of200 = scoreInvestigation(MACHINE, new Set([1, 2, 10]), 1, 200);
  // 200 x 2/3 = 133.33 -> 133; 150 of 1000 = 30 of 200; 200 of 1000 = 40 of 200.
  assert.equal(of200.malwareScore, 133);
  assert.equal(of200.wrongIsolationCost, 30);
  assert.equal(of200.criticalAttemptCost, 40);
});

test('isolating the level\'s own malware scores the max_score', () => {
  // The malware on the level's own workstation, written out by hand: the fake svchost (7712),
  // the miner (8120) and the keylogger (6604); hard adds the fake RuntimeBroker (9344).
  for (const maxScore of [1000, 1500, 200]) {
    assert.equal(scoreInvestigation(forDifficulty(PROCESSES, 'normal'), new Set([7712, 8120, 6604]), 0, maxScore).score, maxScore);
    assert.equal(scoreInvestigation(forDifficulty(PROCESSES, 'hard'), new Set([7712, 8120, 6604, 9344]), 0, maxScore).score, maxScore);
  }
  // Missing the hard-only one on hard: 3 of 4 malware, 1000 x 3/4 = 750.
  assert.equal(scoreInvestigation(forDifficulty(PROCESSES, 'hard'), new Set([7712, 8120, 6604]), 0, 1000).score, 750);
});
