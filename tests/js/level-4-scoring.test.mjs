// Level 4's score (scoreReport) from plain values: every expected number is worked out by hand in
// the test. The rule, in the level's own points: 75 per finding found, 75 per severity exactly
// right (30 when one step off), 150 for staying in scope or 150 off per out-of-scope action,
// 200 for the responsible disclosure, 50 for leaving the client's data alone; a perfect report is
// 4 x 75 + 4 x 75 + 150 + 200 + 50 = 1000 points. The score is the total, between 0 and 1000,
// as a share of the level's max_score (rounded once).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FULL_POINTS, scoreReport, severityPoints } from '../../app/static/js/simulated-pc/levels/level-4.js';

// The level's four findings and their right severities, written out by hand.
const ALL_FOUND = ['admin-default-login', 'outdated-apache', 'exposed-backup', 'debug-errors'];
const EXACT = {
  'admin-default-login': 'critical', 'outdated-apache': 'high', 'exposed-backup': 'high', 'debug-errors': 'medium',
};
const PERFECT = {
  found: ALL_FOUND, severities: EXACT, violations: 0, disclosure: 'private-report', dataHandling: 'leave-untouched',
};
const NOTHING = {
  found: [], severities: {}, violations: 2, disclosure: 'public-forum', dataHandling: 'download-to-verify',
};
// Three findings (debug-errors missed), exposed-backup rated one step too low, one scope
// violation, a public disclosure, the data left alone:
// 3 x 75 + (75 + 30 + 75) - 150 + 0 + 50 = 225 + 180 - 150 + 50 = 305 points.
const PARTIAL = {
  found: ['admin-default-login', 'exposed-backup', 'outdated-apache'],
  severities: { 'admin-default-login': 'critical', 'exposed-backup': 'medium', 'outdated-apache': 'high' },
  violations: 1,
  disclosure: 'public-forum',
  dataHandling: 'leave-untouched',
};

test('a perfect report is 1000 of the level\'s points and scores exactly the max_score', () => {
  assert.equal(FULL_POINTS, 1000);
  for (const maxScore of [1000, 1500, 200]) assert.equal(scoreReport({ ...PERFECT, maxScore }).score, maxScore);
});

test('a report that finds nothing and leaves the scope scores 0, never below', () => {
  // 0 + 0 - 2 x 150 + 0 + 0 = -300 points, held at 0.
  for (const maxScore of [1000, 1500, 200]) assert.equal(scoreReport({ ...NOTHING, maxScore }).score, 0);
  assert.equal(scoreReport({ ...NOTHING, maxScore: 1000 }).points.scope, -300);
});

test('a partial report scores its share of the max_score', () => {
  // 305 / 1000 of 1000 = 305; of 1500 = 457.5, rounded 458; of 200 = 61.
  assert.equal(scoreReport({ ...PARTIAL, maxScore: 1000 }).score, 305);
  assert.equal(scoreReport({ ...PARTIAL, maxScore: 1500 }).score, 458);
  assert.equal(scoreReport({ ...PARTIAL, maxScore: 200 }).score, 61);
  // Every finding rated exactly, in scope, the data left alone, but a public disclosure:
  // 1000 - 200 = 800 points; of 1500 = 1200; of 200 = 160.
  const published = { ...PERFECT, disclosure: 'public-forum' };
  assert.equal(scoreReport({ ...published, maxScore: 1000 }).score, 800);
  assert.equal(scoreReport({ ...published, maxScore: 1500 }).score, 1200);
  assert.equal(scoreReport({ ...published, maxScore: 200 }).score, 160);
});

test('the parts are kept in points, and shown as score on the level\'s scale', () => {
  const result = scoreReport({ ...PARTIAL, maxScore: 1500 });
  assert.deepEqual(result.points, { findings: 225, severities: 180, scope: -150, disclosure: 0, dataHandling: 50 });
  // x 1.5: 337.5 -> 338, 270, -225, 0, 75.
  assert.deepEqual(result.parts, { findings: 338, severities: 270, scope: -225, disclosure: 0, dataHandling: 75 });
  // x 0.2: 45, 36, -30, 0, 10.
  assert.deepEqual(scoreReport({ ...PARTIAL, maxScore: 200 }).parts,
    { findings: 45, severities: 36, scope: -30, disclosure: 0, dataHandling: 10 });
  // In scope: +150 points, 300 of a max_score of 2000.
  assert.equal(scoreReport({ ...PERFECT, maxScore: 2000 }).parts.scope, 300);
});

test('a severity one step off earns some points, further off or unknown none', () => {
  assert.equal(severityPoints('critical', 'critical'), 75);
  assert.equal(severityPoints('high', 'critical'), 30);
  assert.equal(severityPoints('medium', 'critical'), 0);
  assert.equal(severityPoints('whatever', 'critical'), 0);
  // Every finding found but rated two steps too low: 4 x 75 + 0 + 150 + 200 + 50 = 700 points.
  const low = { 'admin-default-login': 'medium', 'outdated-apache': 'low', 'exposed-backup': 'low', 'debug-errors': 'info' };
  assert.equal(scoreReport({ ...PERFECT, severities: low, maxScore: 1000 }).score, 700);
  assert.equal(scoreReport({ ...PERFECT, severities: low, maxScore: 200 }).score, 140);
});
