// The play screen's breakdown rows: the words come from the server's terms, the values from the
// completion's answer; the module adds nothing of its own but the chosen mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { breakdownRows } from '../../app/static/js/simulated-pc/xp-breakdown.js';

// Terms as the server states them (GET /api/levels' xp_rules.terms), cut down to four.
const TERMS = [
  { name: 'base', label: 'Base', rule: 'the base rule', sign: '' },
  { name: 'difficulty_multiplier', label: 'Difficulty', rule: 'the multipliers', sign: '×' },
  { name: 'scale', label: 'Scale', rule: 'the scale rule', sign: '×' },
  { name: 'awarded', label: 'Awarded', rule: 'the repeat policy', sign: '=' },
];

// The seed's example as the server answers it (README, "XP rules").
const BREAKDOWN = {
  base: 18, difficulty: 'normal', difficulty_multiplier: '1.0', time_bonus: '3.6', no_hint_bonus: 10,
  raw: '31.6', raw_best: '38.0', xp_reward: 100, scale_to_reward: true, scale: '2.6316', xp: 83,
  previously_credited: 0, awarded: 83,
};

test('each term becomes a row in the order the server gave, with its sign and words', () => {
  assert.deepEqual(breakdownRows(BREAKDOWN, TERMS), [
    { name: 'base', label: 'Base', rule: 'the base rule', value: '18' },
    { name: 'difficulty_multiplier', label: 'Difficulty (normal)', rule: 'the multipliers', value: '× 1.0' },
    { name: 'scale', label: 'Scale', rule: 'the scale rule', value: '× 2.6316' },
    { name: 'awarded', label: 'Awarded', rule: 'the repeat policy', value: '= 83' },
  ]);
});

test('a term the breakdown does not carry (an earlier completion) is left out', () => {
  const earlier = { base: 18, difficulty: 'hard', difficulty_multiplier: '1.2', awarded: 0 };
  assert.deepEqual(breakdownRows(earlier, TERMS).map((row) => row.name), ['base', 'difficulty_multiplier', 'awarded']);
});

test('a zero value is shown, not skipped', () => {
  assert.equal(breakdownRows({ awarded: 0 }, TERMS)[0].value, '= 0');
});
