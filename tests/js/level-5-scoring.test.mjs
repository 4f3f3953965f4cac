// Level 5's score (scoreCase) from plain values: every expected number is worked out by hand in
// the test. The rule, in the level's own points: 900 shared between the 17 real exhibits, each
// only with its right category, 75 off per innocent item tagged (the evidence part stays at 0 or
// more), 120 per right report answer; a perfect case file is 900 + 5 x 120 = 1500 points. The
// score is the points as a share of the level's max_score (rounded once).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FULL_POINTS, scoreCase } from '../../app/static/js/simulated-pc/levels/level-5.js';

// The level's 17 real exhibits and what each proves, and the five right answers, written out by hand.
const EXHIBITS = {
  'auth-bruteforce': 'initial-access',
  'auth-deploy-accepted': 'initial-access',
  'auth-sudo-find': 'persistence',
  'deploy-sudo-shell': 'persistence',
  'web-shell-upload': 'persistence',
  'web-shell-cmd': 'persistence',
  webshell: 'persistence',
  'cron-sessionclean2': 'persistence',
  'syslog-reverse-shell': 'persistence',
  'root-cron-echo': 'persistence',
  'root-tar': 'exfiltration',
  archive: 'exfiltration',
  'sync-tool': 'exfiltration',
  'root-sync-put': 'exfiltration',
  'sync-upload-ok': 'exfiltration',
  note: 'attribution',
  'root-note': 'attribution',
};
const ANSWERS = {
  entry: 'ssh-bruteforce', persistence: 'fake-cron', taken: 'share-archive', when: 't0238', source: 'ip-203-0-113-77',
};
const WRONG_ANSWERS = {
  entry: 'web-shell', persistence: 'ssh-key', taken: 'nothing', when: 't1138', source: 'ip-203-0-113-80',
};
// Every exhibit but one right (the archive labelled persistence), two innocent items tagged,
// four answers right (the entry point wrong):
// 900 x 16/17 - 2 x 75 + 4 x 120 = 847.06 - 150 + 480 = 1177.06 points.
const PARTIAL = {
  tags: { ...EXHIBITS, archive: 'persistence', 'auth-mara-accepted': 'initial-access', nullpdf: 'attribution' },
  answers: { ...ANSWERS, entry: 'web-shell' },
};

test('a perfect case file is 1500 of the level\'s points and scores exactly the max_score', () => {
  assert.equal(FULL_POINTS, 1500);
  for (const maxScore of [1500, 1000, 200]) {
    for (const difficulty of ['easy', 'normal', 'hard']) {
      assert.equal(scoreCase({ tags: EXHIBITS, answers: ANSWERS, difficulty, maxScore }).score, maxScore);
    }
  }
});

test('an empty case file with every answer wrong scores 0', () => {
  for (const maxScore of [1500, 1000, 200]) {
    assert.equal(scoreCase({ tags: {}, answers: WRONG_ANSWERS, difficulty: 'normal', maxScore }).score, 0);
    // Only innocent items tagged: 0 - 2 x 75 is held at 0.
    const decoys = { 'auth-mara-accepted': 'initial-access', nullpdf: 'attribution' };
    assert.equal(scoreCase({ tags: decoys, answers: WRONG_ANSWERS, difficulty: 'normal', maxScore }).score, 0);
  }
});

test('a partial case file scores its share of the max_score', () => {
  // 1177.06 of 1500 points: of 1500 = 1177; of 1000 = 784.71, rounded 785; of 200 = 156.94, rounded 157.
  assert.equal(scoreCase({ ...PARTIAL, difficulty: 'normal', maxScore: 1500 }).score, 1177);
  assert.equal(scoreCase({ ...PARTIAL, difficulty: 'normal', maxScore: 1000 }).score, 785);
  assert.equal(scoreCase({ ...PARTIAL, difficulty: 'normal', maxScore: 200 }).score, 157);
  const result = scoreCase({ ...PARTIAL, difficulty: 'normal', maxScore: 1500 });
  assert.equal(result.total, 17);
  assert.deepEqual(result.wrongCategory.map((item) => item.id), ['archive']);
  assert.deepEqual(result.decoys.map((item) => item.id).sort(), ['auth-mara-accepted', 'nullpdf']);
  assert.deepEqual(result.wrongAnswers.map((q) => q.id), ['entry']);
});

test('the evidence and report parts are shown as score on the level\'s scale', () => {
  // Evidence 697.06 points, report 480 points (of 1500).
  const of1500 = scoreCase({ ...PARTIAL, difficulty: 'normal', maxScore: 1500 });
  assert.equal(of1500.evidenceScore, 697);
  assert.equal(of1500.reportScore, 480);
  // Of 1000: 697.06 x 2/3 = 464.71 -> 465 and 480 x 2/3 = 320.
  const of1000 = scoreCase({ ...PARTIAL, difficulty: 'normal', maxScore: 1000 });
  assert.equal(of1000.evidenceScore, 465);
  assert.equal(of1000.reportScore, 320);
  // Of 200: 697.06 / 7.5 = 92.94 -> 93 and 480 / 7.5 = 64.
  const of200 = scoreCase({ ...PARTIAL, difficulty: 'normal', maxScore: 200 });
  assert.equal(of200.evidenceScore, 93);
  assert.equal(of200.reportScore, 64);
});

test('the evidence part never goes below 0, and the answers still count', () => {
  // One exhibit right and three innocent items: 900 / 17 - 225 < 0, held at 0; five answers = 600 points.
  // 600 of 1500 = 600; of 1000 = 400; of 200 = 80.
  const tags = { 'auth-bruteforce': 'initial-access', rota: 'attribution', todo: 'initial-access', logo: 'exfiltration' };
  assert.equal(scoreCase({ tags, answers: ANSWERS, difficulty: 'normal', maxScore: 1500 }).score, 600);
  assert.equal(scoreCase({ tags, answers: ANSWERS, difficulty: 'normal', maxScore: 1000 }).score, 400);
  assert.equal(scoreCase({ tags, answers: ANSWERS, difficulty: 'normal', maxScore: 200 }).score, 80);
});

test('the score is rounded once, at the end', () => {
  // One exhibit right, nothing else: 900 / 17 = 52.94 points.
  // Of 1500: 52.94 -> 53; of 1000: 35.29 -> 35; of 200: 7.06 -> 7.
  const tags = { 'auth-bruteforce': 'initial-access' };
  assert.equal(scoreCase({ tags, answers: WRONG_ANSWERS, difficulty: 'normal', maxScore: 1500 }).score, 53);
  assert.equal(scoreCase({ tags, answers: WRONG_ANSWERS, difficulty: 'normal', maxScore: 1000 }).score, 35);
  assert.equal(scoreCase({ tags, answers: WRONG_ANSWERS, difficulty: 'normal', maxScore: 200 }).score, 7);
  // An innocent item that exists only on hard costs points on hard:
  // every exhibit and answer right, one hard-only decoy: 1500 - 75 = 1425 points; of 1000 = 950.
  const withScanner = { ...EXHIBITS, 'auth-scanner-failed': 'initial-access' };
  assert.equal(scoreCase({ tags: withScanner, answers: ANSWERS, difficulty: 'hard', maxScore: 1500 }).score, 1425);
  assert.equal(scoreCase({ tags: withScanner, answers: ANSWERS, difficulty: 'hard', maxScore: 1000 }).score, 950);
});
