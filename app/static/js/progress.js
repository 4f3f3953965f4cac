// The progress page: the XP history, read page by page from the API, and a chart of the balance.

import { h } from './simulated-pc/dom.js';

const REASONS = {
  level_completion: 'Level completed',
  manual_adjustment: 'Adjustment',
  completion_revoked: 'Completion revoked',
};
const rows = document.getElementById('history-rows');
const more = document.getElementById('history-more');
let next = null;

async function page(before, limit = 20) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set('before', String(before));
  const response = await fetch(`/api/xp/history?${query}`, { credentials: 'include' });
  if (!response.ok) throw new Error(`history: HTTP ${response.status}`);
  return response.json();
}

function showEntries(items) {
  for (const item of items) {
    const delta = item.delta > 0 ? `+${item.delta}` : String(item.delta);
    rows.append(h('tr', { 'data-testid': 'history-row' },
      h('td', {}, new Date(item.created_at).toLocaleString()),
      h('td', {}, REASONS[item.reason] || item.reason),
      h('td', { class: `text-end ${item.delta > 0 ? 'text-success' : 'text-danger'}` }, delta),
      h('td', { class: 'text-end' }, String(item.balance_after))));
  }
}

async function loadMore() {
  const data = await page(next);
  showEntries(data.items);
  next = data.next;
  more.hidden = !data.has_more;
  document.getElementById('history-empty').hidden = rows.children.length > 0 || data.archived !== null;
  // Older entries moved to the archive are summed up after the last page, so the list still
  // adds up to the total.
  const archived = document.getElementById('history-archived');
  if (!data.has_more && data.archived) {
    const xp = data.archived.xp > 0 ? `+${data.archived.xp}` : String(data.archived.xp);
    archived.textContent = `Before these: ${data.archived.entries} archived entries, ${xp} XP in all.`;
    archived.hidden = false;
  }
}

async function drawChart() {
  // The chart shows the balance after each change; the newest 500 entries are plenty for it.
  const entries = [];
  let before = null;
  for (let i = 0; i < 5; i += 1) {
    const data = await page(before, 100);
    entries.push(...data.items);
    if (!data.has_more) break;
    before = data.next;
  }
  if (entries.length === 0) {
    document.getElementById('chart-empty').hidden = false;
    return;
  }
  entries.reverse();
  // Start the line at the balance before the oldest entry shown (0 for a new player).
  const start = { created_at: entries[0].created_at, balance_after: entries[0].balance_after - entries[0].delta };
  const points = [start, ...entries];
  const canvas = document.getElementById('xp-chart');
  new window.Chart(canvas, {
    type: 'line',
    data: {
      labels: points.map((e) => new Date(e.created_at).toLocaleString()),
      datasets: [{ label: 'Total XP', data: points.map((e) => e.balance_after), borderColor: '#0dcaf0', tension: 0.2 }],
    },
    options: {
      animation: false,
      plugins: { legend: { display: false } },
      scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } },
    },
  });
  canvas.dataset.points = String(entries.length);
}

async function showRules() {
  // The XP rules in the server's words (GET /api/levels), so this page never restates them.
  const response = await fetch('/api/levels', { credentials: 'include' });
  if (!response.ok) throw new Error(`levels: HTTP ${response.status}`);
  const { xp_rules: rules } = await response.json();
  document.getElementById('xp-rules').replaceChildren(...rules.terms.map((term) =>
    h('li', { 'data-term': term.name }, h('strong', {}, term.label), `: ${term.rule}`)));
}

more.addEventListener('click', loadMore);
loadMore();
drawChart();
showRules();
