// The play page: start the simulated PC with the chosen level, and report the result through
// the completion client (or keep it on this device when tracking is off for the player).

import { createPC } from './desktop.js';
import { h, icon, replace } from './dom.js';
import { createCompletionClient } from './levels/completion-client.js';
import { breakdownRows } from './xp-breakdown.js';

const config = JSON.parse(document.getElementById('play-config').textContent);
const { level } = config;
const LOCAL_RESULTS_KEY = 'cyberquest.local-results.v1';
// The worker awards achievements after the completion is recorded: the dialog looks a few times
// for new ones, and whatever it misses is announced on the player's next page.
const ACHIEVEMENT_CHECKS = 8;
const ACHIEVEMENT_CHECK_MS = 1000;

const client = createCompletionClient({
  userId: config.user_id,
  trackingEnabled: config.tracking_enabled,
  fetch: window.fetch.bind(window),
  storage: window.localStorage,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

function rememberLocally(payload) {
  let results = [];
  try {
    results = JSON.parse(window.localStorage.getItem(LOCAL_RESULTS_KEY)) || [];
  } catch {
    results = [];
  }
  results.push({ ...payload, recorded_at: new Date().toISOString() });
  window.localStorage.setItem(LOCAL_RESULTS_KEY, JSON.stringify(results.slice(-50)));
}

function count(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function breakdownTable(breakdown) {
  const rows = breakdownRows(breakdown, config.xp_rules.terms);
  return h(
    'table',
    { class: 'table table-sm mb-0', 'data-testid': 'xp-breakdown' },
    h('tbody', {}, rows.map((row) => h('tr', { 'data-term': row.name },
      h('td', {}, row.label, h('div', { class: 'small text-body-secondary' }, row.rule)),
      h('td', { class: 'text-end text-nowrap' }, row.value)))),
  );
}

function describe(outcome, result) {
  const lines = [
    h('p', { class: 'mb-2' }, `Score ${result.score} of ${level.max_score} in ${result.time_spent} s · `,
      `${count(result.hints_used, 'hint')} · ${count(result.mistakes, 'mistake')}`),
  ];
  for (const line of result.summary || []) lines.push(h('div', { class: 'small text-body-secondary' }, line));
  const answer = outcome.result;
  switch (outcome.status) {
    case 'recorded':
      lines.push(
        h('p', { class: 'fs-4 my-3', 'data-testid': 'awarded-xp' }, icon('bi-stars text-warning'), ` +${answer.awarded_xp} XP`),
        h('p', { 'data-testid': 'total-xp' }, `Your total: ${answer.new_total_xp} XP`),
        breakdownTable(answer.xp_breakdown),
      );
      updateNavTotal(answer.new_total_xp);
      break;
    case 'already_counted':
      lines.push(
        h('p', { class: 'my-3', 'data-testid': 'already-counted' }, icon('bi-check2-circle text-success'),
          ` Already counted: this completion earned ${answer.awarded_xp} XP when it was first recorded.`),
        h('p', { 'data-testid': 'total-xp' }, `Your total: ${answer.new_total_xp} XP`),
      );
      break;
    case 'local_only':
    case 'tracking_disabled':
      rememberLocally({ level_id: level.level_id, ...result });
      lines.push(h('p', { class: 'my-3', 'data-testid': 'local-only-result' }, icon('bi-hdd'),
        ' Saved on this device only: progress tracking is not enabled for your account.'));
      break;
    case 'pending':
    case 'needs_sign_in':
      lines.push(h('p', { class: 'my-3 text-warning', 'data-testid': 'pending-result' }, icon('bi-cloud-arrow-up'),
        outcome.status === 'pending'
          ? ' Your result is saved on this device and will be sent when the connection is back.'
          : ' Sign in again to save this result; it is kept on this device until then.'));
      break;
    default:
      lines.push(h('div', { class: 'alert alert-danger my-3', 'data-testid': 'result-error' },
        (outcome.error && outcome.error.message) || 'The server could not record this result.'));
  }
  return lines;
}

// The player's earned achievements by key, or null when they cannot be read.
async function earnedAchievements() {
  try {
    const response = await fetch('/api/achievements', {
      credentials: 'include',
      headers: { Accept: 'application/json' },
    });
    if (!response.ok) return null;
    const { achievements } = await response.json();
    return new Map(achievements.filter((a) => a.earned_at).map((a) => [a.key, a]));
  } catch {
    return null;
  }
}

async function showNewAchievements(body, before) {
  const list = h('div', { 'data-testid': 'new-achievements' });
  body.append(list);
  for (let check = 0; check < ACHIEVEMENT_CHECKS; check += 1) {
    await new Promise((resolve) => setTimeout(resolve, ACHIEVEMENT_CHECK_MS));
    const now = await earnedAchievements();
    if (now === null) return;
    const fresh = [...now.values()].filter((a) => !before.has(a.key));
    if (fresh.length > 0) {
      for (const achievement of fresh) {
        list.append(h('p', { class: 'mb-1 text-success', 'data-testid': 'new-achievement' },
          icon(`${achievement.icon} text-warning`), ` Achievement unlocked: ${achievement.name}`));
      }
      return;
    }
  }
}

function updateNavTotal(total) {
  const nav = document.querySelector('[data-testid="nav-xp"]');
  if (nav) nav.textContent = String(total);
}

async function finished(result, difficulty) {
  const modal = window.bootstrap.Modal.getOrCreateInstance(document.getElementById('result-modal'));
  const body = document.getElementById('result-body');
  replace(body, h('p', {}, h('span', { class: 'spinner-border spinner-border-sm' }), ' Saving your result…'));
  modal.show();
  const earnedBefore = config.tracking_enabled ? earnedAchievements() : Promise.resolve(null);
  const outcome = await client.reportCompletion({
    level_id: level.level_id,
    level_type: 'simulation',
    score: result.score,
    time_spent: result.time_spent,
    difficulty,
    metadata: { hints_used: result.hints_used, mistakes: result.mistakes },
  });
  replace(body, describe(outcome, result));
  const before = await earnedBefore;
  if (outcome.status === 'recorded' && before !== null) showNewAchievements(body, before);
}

async function start() {
  const difficulty = document.querySelector('input[name="difficulty"]:checked').value;
  document.getElementById('start-overlay').remove();
  const pc = createPC(document.getElementById('pc'), { level, difficulty });
  pc.onFinish((result) => finished(result, difficulty));
  const module = await import(`./levels/level-${level.level_id}.js`);
  module.start(pc);
  window.cyberquestPC = pc; // lets a curious player (and the browser tests) see the desktop state
}

document.getElementById('start-button').addEventListener('click', start);
client.flushOutbox();
