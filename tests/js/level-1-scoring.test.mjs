// Level 1's score (scoreDecisions) from plain values: every expected number is worked out by hand
// in the test, from the rule in the level's opening comment (3 points per right verdict, plus 2 per
// right reason on normal and hard, as a share of the level's max_score).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ARTICLES, scoreDecisions } from '../../app/static/js/simulated-pc/levels/level-1.js';

// A feed of four articles, made up for the test.
const FEED = [
  { id: 'a', verdict: 'credible', reason: 'credible' },
  { id: 'b', verdict: 'misleading', reason: 'satire' },
  { id: 'c', verdict: 'misleading', reason: 'fabricated-source' },
  { id: 'd', verdict: 'misleading', reason: 'misleading-headline' },
];
const RIGHT = FEED.map(({ verdict, reason }) => ({ verdict, reason }));
const ALL_WRONG = [
  { verdict: 'misleading', reason: 'satire' },
  { verdict: 'credible', reason: 'credible' },
  { verdict: 'credible', reason: 'credible' },
  { verdict: 'credible', reason: 'credible' },
];
// a: verdict and reason right (5); b: verdict right, reason wrong (3);
// c: verdict wrong, so its right reason earns nothing (0); d: both right (5). 13 of 4 x 5 = 20.
const PARTIAL = [
  { verdict: 'credible', reason: 'credible' },
  { verdict: 'misleading', reason: 'impostor-outlet' },
  { verdict: 'credible', reason: 'fabricated-source' },
  { verdict: 'misleading', reason: 'misleading-headline' },
];

test('a perfect run scores exactly the max_score passed in', () => {
  for (const maxScore of [1000, 1500, 200]) {
    assert.equal(scoreDecisions(FEED, RIGHT, 'normal', maxScore).score, maxScore);
    assert.equal(scoreDecisions(FEED, RIGHT, 'easy', maxScore).score, maxScore);
  }
});

test('a run with every verdict wrong scores 0', () => {
  for (const maxScore of [1000, 1500, 200]) {
    assert.equal(scoreDecisions(FEED, ALL_WRONG, 'normal', maxScore).score, 0);
  }
});

test('a partial run on normal scores its share of the max_score', () => {
  // 13 / 20 of 1000 = 650; of 1500 = 975; of 200 = 130.
  assert.equal(scoreDecisions(FEED, PARTIAL, 'normal', 1000).score, 650);
  assert.equal(scoreDecisions(FEED, PARTIAL, 'normal', 1500).score, 975);
  assert.equal(scoreDecisions(FEED, PARTIAL, 'normal', 200).score, 130);
  const { results } = scoreDecisions(FEED, PARTIAL, 'normal', 1000);
  assert.deepEqual(results.map((r) => [r.verdictRight, r.reasonRight]),
    [[true, true], [true, false], [false, false], [true, true]]);
});

test('easy mode scores verdicts only and rounds to the nearest point', () => {
  // Three of the four verdicts right (a, b, d): 3 x 3 = 9 of 4 x 3 = 12 points.
  // 9 / 12 of 1000 = 750; of 1500 = 1125; of 200 = 150.
  assert.equal(scoreDecisions(FEED, PARTIAL, 'easy', 1000).score, 750);
  assert.equal(scoreDecisions(FEED, PARTIAL, 'easy', 1500).score, 1125);
  assert.equal(scoreDecisions(FEED, PARTIAL, 'easy', 200).score, 150);
  assert.deepEqual(scoreDecisions(FEED, PARTIAL, 'easy', 1000).results.map((r) => r.reasonRight), [null, null, null, null]);
  // Three articles, two verdicts right: 6 of 9 points.
  // 6 / 9 of 1000 = 666.67, rounded 667; of 200 = 133.33, rounded 133; of 1500 = 1000.
  const three = FEED.slice(0, 3);
  const twoRight = [RIGHT[0], RIGHT[1], ALL_WRONG[2]];
  assert.equal(scoreDecisions(three, twoRight, 'easy', 1000).score, 667);
  assert.equal(scoreDecisions(three, twoRight, 'easy', 200).score, 133);
  assert.equal(scoreDecisions(three, twoRight, 'easy', 1500).score, 1000);
});

test('an article without a decision counts as wrong', () => {
  // Only a and b decided, both right: 10 of 20 points; 10 / 20 of 1000 = 500.
  assert.equal(scoreDecisions(FEED, RIGHT.slice(0, 2), 'normal', 1000).score, 500);
});

test('judging the level\'s own hard feed right scores the max_score', () => {
  // The inputs are the feed's answers; the expected score is the max_score itself.
  const answers = ARTICLES.map(({ verdict, reason }) => ({ verdict, reason }));
  for (const maxScore of [1000, 1500, 200]) {
    assert.equal(scoreDecisions(ARTICLES, answers, 'hard', maxScore).score, maxScore);
  }
});
