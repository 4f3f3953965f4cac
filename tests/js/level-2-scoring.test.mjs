// Level 2's score (scoreDecisions) from plain values: every expected number is worked out by hand
// in the test, from the rule in the level's opening comment (3 points per right triage, plus 2 per
// accepted red flag on normal and hard, as a share of the level's max_score).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { EMAILS, scoreDecisions } from '../../app/static/js/simulated-pc/levels/level-2.js';

// An inbox of five emails, made up for the test.
const INBOX = [
  { id: 'a', verdict: 'legit', accepted: ['none'] },
  { id: 'b', verdict: 'phishing', accepted: ['link-mismatch'] },
  { id: 'c', verdict: 'phishing', accepted: ['payment-change', 'reply-to-mismatch'] },
  { id: 'd', verdict: 'phishing', accepted: ['dangerous-attachment'] },
  { id: 'e', verdict: 'legit', accepted: ['none'] },
];
const RIGHT = [
  { triage: 'legit', flag: 'none' },
  { triage: 'phishing', flag: 'link-mismatch' },
  { triage: 'phishing', flag: 'payment-change' },
  { triage: 'phishing', flag: 'dangerous-attachment' },
  { triage: 'legit', flag: 'none' },
];
const ALL_WRONG = [
  { triage: 'phishing', flag: 'link-mismatch' },
  { triage: 'legit', flag: 'none' },
  { triage: 'legit', flag: 'none' },
  { triage: 'legit', flag: 'none' },
  { triage: 'phishing', flag: 'mfa-fatigue' },
];
// a: both right (5); b: triage right, flag wrong (3); c: the second accepted flag (5);
// d: triage wrong, so the right flag earns nothing (0); e: both right (5). 18 of 5 x 5 = 25.
const PARTIAL = [
  { triage: 'legit', flag: 'none' },
  { triage: 'phishing', flag: 'lookalike-domain' },
  { triage: 'phishing', flag: 'reply-to-mismatch' },
  { triage: 'legit', flag: 'dangerous-attachment' },
  { triage: 'legit', flag: 'none' },
];

test('a perfect run scores exactly the max_score passed in', () => {
  for (const maxScore of [1000, 1500, 200]) {
    assert.equal(scoreDecisions(INBOX, RIGHT, 'normal', maxScore).score, maxScore);
    assert.equal(scoreDecisions(INBOX, RIGHT, 'easy', maxScore).score, maxScore);
  }
});

test('a run with every triage wrong scores 0', () => {
  for (const maxScore of [1000, 1500, 200]) {
    assert.equal(scoreDecisions(INBOX, ALL_WRONG, 'hard', maxScore).score, 0);
  }
});

test('a partial run on normal scores its share of the max_score', () => {
  // 18 / 25 of 1000 = 720; of 1500 = 1080; of 200 = 144.
  assert.equal(scoreDecisions(INBOX, PARTIAL, 'normal', 1000).score, 720);
  assert.equal(scoreDecisions(INBOX, PARTIAL, 'normal', 1500).score, 1080);
  assert.equal(scoreDecisions(INBOX, PARTIAL, 'normal', 200).score, 144);
  const { results } = scoreDecisions(INBOX, PARTIAL, 'normal', 1000);
  assert.deepEqual(results.map((r) => [r.triageRight, r.flagRight]),
    [[true, true], [true, false], [true, true], [false, false], [true, true]]);
});

test('easy mode scores triage only and rounds to the nearest point', () => {
  // Four of five triages right (a, b, c, e): 12 of 15 points.
  // 12 / 15 of 1000 = 800; of 1500 = 1200; of 200 = 160.
  assert.equal(scoreDecisions(INBOX, PARTIAL, 'easy', 1000).score, 800);
  assert.equal(scoreDecisions(INBOX, PARTIAL, 'easy', 1500).score, 1200);
  assert.equal(scoreDecisions(INBOX, PARTIAL, 'easy', 200).score, 160);
  // Three emails, one triage right: 3 of 9 points.
  // 3 / 9 of 1000 = 333.33, rounded 333; of 200 = 66.67, rounded 67; of 1500 = 500.
  const three = INBOX.slice(0, 3);
  const oneRight = [RIGHT[0], ALL_WRONG[1], ALL_WRONG[2]];
  assert.equal(scoreDecisions(three, oneRight, 'easy', 1000).score, 333);
  assert.equal(scoreDecisions(three, oneRight, 'easy', 200).score, 67);
  assert.equal(scoreDecisions(three, oneRight, 'easy', 1500).score, 500);
});

test('triaging the level\'s own hard inbox right scores the max_score', () => {
  // The inputs are the inbox's answers; the expected score is the max_score itself.
  const answers = EMAILS.map((email) => ({ triage: email.verdict, flag: email.flag }));
  for (const maxScore of [1000, 1500, 200]) {
    assert.equal(scoreDecisions(EMAILS, answers, 'hard', maxScore).score, maxScore);
  }
});
