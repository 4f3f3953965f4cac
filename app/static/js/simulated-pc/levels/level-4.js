// Level 4 — The White Hat Test: a hired tester reads the Rules of Engagement, scans only the
// in-scope hosts from a simulated terminal, records findings, rates their severity and chooses
// how to disclose them responsibly (without touching the client's data).

import { h, icon, loadLevelStylesheet, replace, scrollWithin } from '../dom.js';

export const CLIENT = {
  name: 'Harbor & Pine Outfitters',
  domain: 'harborpine.test',
  contact: 'Mira Okafor',
  securityEmail: 'security@harborpine.test',
  tester: 'Greyline Assurance',
};

const MSG_NOTHING = 'Nothing to report: an expected service, configured sensibly.';

/**
 * Every host the terminal knows. `inScope` is the answer; `hardOnly` hosts are listed in the
 * inventory only on hard (they always resolve). Ports with a `findingId` reveal that finding.
 */
export const HOSTS = [
  {
    name: 'www.harborpine.test', ip: '192.0.2.10', inScope: true, role: 'Online shop (storefront)',
    ports: [
      { port: 80, service: 'http', version: 'nginx 1.24.0', details: ['HTTP/1.1 301 Moved Permanently → https://www.harborpine.test/', 'Plain HTTP only redirects to HTTPS, as it should.', MSG_NOTHING] },
      { port: 443, service: 'https', version: 'nginx 1.24.0', details: ['TLS 1.2 and 1.3 only; certificate valid until 2026-09-30.', 'Storefront: "Harbor & Pine Outfitters — gear for wet weather". HSTS and CSP headers present.', MSG_NOTHING] },
    ],
  },
  {
    name: 'admin.harborpine.test', ip: '192.0.2.11', inScope: true, role: 'Back-office administration',
    ports: [
      { port: 22, service: 'ssh', version: 'OpenSSH 9.6', details: ['SSH-2.0-OpenSSH_9.6', 'Password sign-in is disabled: "publickey" only.', MSG_NOTHING] },
      {
        port: 8080, service: 'http', version: 'ShopDesk Admin 3.2 (login page)', findingId: 'admin-default-login',
        details: [
          'GET / → 302 /login — "ShopDesk Admin 3.2 — Harbor & Pine back office"',
          'The ShopDesk installation guide lists the default login admin / admin.',
          'RoE §3 allows one sign-in attempt with vendor default credentials, changing nothing.',
          'POST /login (admin / admin) → 200: the dashboard shows Orders, Customers, Refunds.',
          'You sign out at once, without opening any record.',
        ],
      },
    ],
  },
  {
    name: 'files.harborpine.test', ip: '192.0.2.12', inScope: true, role: 'Download server (catalogues)',
    ports: [
      {
        port: 80, service: 'http', version: 'Apache httpd 2.4.58', findingId: 'exposed-backup',
        details: [
          'GET /backup/ → 200 "Index of /backup"',
          '    harborpine-site-2024-02.tar.gz   312M',
          '    config.php.bak                     4K',
          '    readme.txt                         1K   "full site copy before the redesign"',
          'Directory listing is on: anyone on the internet can download these files.',
          'You note the names and sizes only; nothing was downloaded or opened.',
        ],
      },
    ],
  },
  {
    name: 'legacy.harborpine.test', ip: '192.0.2.13', inScope: true, role: 'Old staff wiki (read-only)',
    ports: [
      {
        port: 80, service: 'http', version: 'Apache httpd 2.4.49', findingId: 'outdated-apache',
        details: [
          'Server: Apache/2.4.49 (Unix) — "Pinewiki (old staff wiki, read-only)"',
          'Apache httpd 2.4.49 has a published path-traversal flaw, CVE-2021-41773 (fixed in 2.4.51).',
          'Public exploit code exists. You confirm the version only and run no exploit (RoE §3).',
        ],
      },
    ],
  },
  {
    name: 'mail.harborpine.test', ip: '192.0.2.14', inScope: true, role: 'Mail server',
    ports: [
      { port: 25, service: 'smtp', version: 'Postfix', details: ['220 mail.harborpine.test ESMTP', 'STARTTLS offered; relaying for outside domains is refused.', MSG_NOTHING] },
      { port: 587, service: 'submission', version: 'Postfix', details: ['Mail submission: sign-in required after STARTTLS.', MSG_NOTHING] },
      { port: 993, service: 'imaps', version: 'Dovecot', details: ['IMAP over TLS with a valid certificate.', MSG_NOTHING] },
    ],
  },
  {
    name: 'payments.harborpine.test', ip: '192.0.2.15', inScope: false,
    reason: 'the production payment gateway (card data), tested separately under payment-card rules',
    ports: [{ port: 443, service: 'https', version: 'payment gateway', details: [] }],
  },
  {
    name: 'dev.harborpine.test', ip: '192.0.2.16', inScope: true, role: 'Developer preview of the new shop',
    ports: [
      {
        port: 3000, service: 'http', version: 'Node.js Express (development mode)', findingId: 'debug-errors',
        details: [
          'GET /does-not-exist → 500 Internal Server Error',
          'The error page prints a full stack trace: /srv/hp-preview/node_modules/…, Express 4.18, database host pg-internal.harborpine.lan',
          'NODE_ENV is "development" on a host reachable from the internet.',
        ],
      },
    ],
  },
  { name: null, ip: '192.0.2.17', inScope: true, role: 'Unassigned', ports: [] },
  { name: null, ip: '192.0.2.18', inScope: true, role: 'Unassigned', ports: [] },
  { name: null, ip: '192.0.2.19', inScope: true, role: 'Unassigned', ports: [] },
  {
    name: 'cdn.harborpine.test', ip: '203.0.113.80', inScope: false,
    reason: 'the Fastlane CDN: a third party\'s servers, which only Fastlane can authorise testing',
    ports: [{ port: 443, service: 'https', version: 'CDN edge', details: [] }],
  },
  {
    name: 'static.harborpine.test', ip: '203.0.113.81', inScope: false, hardOnly: true, role: 'Images and scripts for the shop',
    reason: 'an alias of the third-party Fastlane CDN (it resolves into 203.0.113.0/24)',
    ports: [{ port: 443, service: 'https', version: 'CDN edge', details: [] }],
  },
  {
    name: 'checkout.harborpine.test', ip: '192.0.2.15', inScope: false, hardOnly: true, role: 'Checkout pages',
    reason: 'another name for the production payment gateway (192.0.2.15)',
    ports: [{ port: 443, service: 'https', version: 'payment gateway', details: [] }],
  },
  {
    name: 'orders.tidewater-freight.test', ip: '198.51.100.20', inScope: false,
    reason: 'Tidewater Freight, the client\'s logistics partner: not the client\'s system to authorise',
    ports: [{ port: 443, service: 'https', version: 'partner API', details: [] }],
  },
];

/** Severity levels, most severe first, with the guide shown in the report form. */
export const SEVERITIES = [
  { id: 'critical', label: 'Critical', guide: 'An outsider can take control of systems or data right now, with no special skill.' },
  { id: 'high', label: 'High', guide: 'Serious compromise is likely: a public exploit for a known flaw, or sensitive data exposed.' },
  { id: 'medium', label: 'Medium', guide: 'Leaks information that helps an attacker, or needs extra conditions to abuse.' },
  { id: 'low', label: 'Low', guide: 'A minor weakness with little direct impact.' },
  { id: 'info', label: 'Informational', guide: 'No risk; noted for completeness.' },
];

/** The real findings and their correct severity. */
export const FINDINGS = [
  {
    id: 'admin-default-login', host: 'admin.harborpine.test', port: 8080, severity: 'critical',
    title: 'Admin panel accepts the vendor\'s default login',
    why: 'Anyone on the internet can sign in to the shop\'s back office (orders, customers, refunds) with a password printed in the vendor\'s manual: full control, no skill needed.',
    fix: 'Change the password today, allow the panel only from the office VPN and turn on two-factor sign-in.',
  },
  {
    id: 'outdated-apache', host: 'legacy.harborpine.test', port: 80, severity: 'high',
    title: 'Outdated web server with a public exploit (Apache httpd 2.4.49, CVE-2021-41773)',
    why: 'A published path-traversal flaw lets outsiders read files outside the web root and, where CGI is enabled, run commands. Public exploit code makes an attack likely.',
    fix: 'Upgrade Apache (2.4.51 or later) or retire the old wiki.',
  },
  {
    id: 'exposed-backup', host: 'files.harborpine.test', port: 80, severity: 'high',
    title: 'Directory listing exposes a full website backup',
    why: 'Anyone can download the shop\'s code and a configuration backup, which normally holds database passwords: sensitive data exposed.',
    fix: 'Remove the files, turn off directory listing and change every password in that configuration.',
  },
  {
    id: 'debug-errors', host: 'dev.harborpine.test', port: 3000, severity: 'medium',
    title: 'Developer server shows detailed error pages',
    why: 'Stack traces reveal internal paths, versions and a database hostname. Not directly exploitable, but it helps an attacker plan.',
    fix: 'Take the preview off the internet, or run it in production mode with generic error pages.',
  },
];

/** What to do with the findings: one responsible choice. */
export const DISCLOSURE_OPTIONS = [
  {
    id: 'private-report', correct: true,
    label: `Send the report privately to ${CLIENT.contact} at ${CLIENT.securityEmail}: every finding with evidence, severity and a fix, and the agreed fix deadlines (Critical 7 days, High 30 days).`,
    why: 'Responsible disclosure: the client hears first, privately, with enough detail to fix each issue, and a deadline keeps everyone honest. It is what the Rules of Engagement ask for.',
  },
  {
    id: 'public-forum', correct: false,
    label: 'Post the findings on a security forum now, so the shop\'s customers are warned.',
    why: 'Publishing unfixed flaws hands attackers a recipe before the client can fix anything, and breaks the contract (RoE §5).',
  },
  {
    id: 'exploit-further', correct: false,
    label: 'Sign back in to the admin panel and export a few customer records, to prove the risk is real.',
    why: 'Your job is to show the door is open, not to walk through it. Taking customer data breaks RoE §3–4 and the law, whatever the intention.',
  },
  {
    id: 'ceo-personal-email', correct: false,
    label: 'Email everything to the CEO\'s personal webmail address, so the news reaches the top fast.',
    why: 'Sensitive findings go to the agreed security contact over the agreed channel; a personal mailbox is outside the client\'s control and may leak.',
  },
  {
    id: 'sell-to-broker', correct: false,
    label: 'Offer the admin-panel flaw to a vulnerability broker who pays well for unpatched bugs.',
    why: 'Selling a client\'s vulnerability is a crime and a betrayal of the engagement: it puts the client and its customers directly at risk.',
  },
];

/** What to do with the client data found in the exposed backup. */
export const DATA_HANDLING_OPTIONS = [
  {
    id: 'leave-untouched', correct: true,
    label: 'Do not download or open the files: record their URL, names and sizes as evidence and ask the client to remove them.',
    why: 'The listing already proves the exposure. Opening client data is neither needed nor allowed (RoE §4).',
  },
  {
    id: 'download-to-verify', correct: false,
    label: 'Download the backup and config.php.bak to check what they contain.',
    why: 'That copies client data, probably passwords too, to your laptop without need or permission (RoE §4).',
  },
  {
    id: 'delete-from-server', correct: false,
    label: 'Delete the files from the server yourself, to protect the client straight away.',
    why: 'Changing client systems is not your call: it destroys evidence and may break things. Report it; the client removes it.',
  },
];

/**
 * How the level's own points are shared. Each out-of-scope action also costs `perViolation`.
 * The score is the points as a share of FULL_POINTS, scaled to the level's max_score.
 */
export const SCORING = {
  perFinding: 75, perSeverity: 75, nearSeverity: 30, inScope: 150, perViolation: 150, disclosure: 200, dataHandling: 50,
};

/** The points of a perfect report: every finding found and rated exactly, in scope, disclosed and handled well. */
export const FULL_POINTS = FINDINGS.length * (SCORING.perFinding + SCORING.perSeverity)
  + SCORING.inScope + SCORING.disclosure + SCORING.dataHandling;

/** A number of the level's points as score, on a level whose max_score is `maxScore`. */
export function pointsToScore(points, maxScore) {
  return Math.round((maxScore * points) / FULL_POINTS);
}

/** The host a terminal argument (IP or name) points at, or null when the name does not resolve. */
export function resolveTarget(text) {
  let target = String(text || '').trim().toLowerCase().replace(/\.$/, '');
  if (/^[\d.]+$/.test(target)) target = target.split('.').map((n) => String(Number(n))).join('.'); // 192.0.2.010 is .10
  const known = HOSTS.find((host) => host.name === target) || HOSTS.find((host) => host.ip === target);
  if (known) return known;
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(target) && target.split('.').every((n) => Number(n) <= 255)) {
    return { name: null, ip: target, inScope: false, reason: 'an address the Rules of Engagement do not list', ports: [] };
  }
  return null;
}

function severityDistance(chosen, correct) {
  const index = (id) => SEVERITIES.findIndex((s) => s.id === id);
  return index(chosen) < 0 ? Infinity : Math.abs(index(chosen) - index(correct));
}

/** Points for one finding's severity: full when exact, some when one step off. */
export function severityPoints(chosen, correct) {
  const distance = severityDistance(chosen, correct);
  if (distance === 0) return SCORING.perSeverity;
  return distance === 1 ? SCORING.nearSeverity : 0;
}

/**
 * Score a report from the player's choices only. `points` holds each part in the level's own
 * points; `parts` the same parts as score, for the feedback; `score` is rounded once, from the
 * total.
 * @param {{found: string[], severities: Object<string,string>, violations: number,
 *          disclosure: string, dataHandling: string, maxScore: number}} report
 *   maxScore is the level's max_score (a perfect report scores exactly this)
 */
export function scoreReport({ found, severities, violations, disclosure, dataHandling, maxScore }) {
  const foundFindings = FINDINGS.filter((f) => found.includes(f.id));
  const points = {
    findings: SCORING.perFinding * foundFindings.length,
    severities: foundFindings.reduce((sum, f) => sum + severityPoints(severities[f.id], f.severity), 0),
    scope: violations === 0 ? SCORING.inScope : -SCORING.perViolation * violations,
    disclosure: DISCLOSURE_OPTIONS.find((o) => o.id === disclosure)?.correct ? SCORING.disclosure : 0,
    dataHandling: DATA_HANDLING_OPTIONS.find((o) => o.id === dataHandling)?.correct ? SCORING.dataHandling : 0,
  };
  const total = Object.values(points).reduce((a, b) => a + b, 0);
  const parts = Object.fromEntries(Object.entries(points).map(([part, value]) => [part, pointsToScore(value, maxScore)]));
  return { score: pointsToScore(Math.max(0, Math.min(FULL_POINTS, total)), maxScore), points, parts };
}

function hostLabel(host) {
  return host.name ? `${host.name} (${host.ip})` : host.ip;
}

/** Start the level: desktop icons, the briefing, and the engagement's state. */
export function start(pc) {
  loadLevelStylesheet(4);
  const game = {
    pc,
    opened: new Set(),
    scanned: new Set(), // IPs scanned in scope
    resolved: new Set(),
    found: [], // finding ids in the order the player found them
    severities: {},
    disclosure: null,
    dataHandling: null,
    violations: [],
    pendingConfirmation: null, // easy mode: the out-of-scope command awaiting a repeat
    submitted: false,
    terminal: null,
    report: null,
  };
  pc.addIcon({ id: 'rules', label: 'Rules of Engagement', icon: 'bi-file-earmark-text', open: () => openRules(game) });
  pc.addIcon({ id: 'terminal', label: 'Terminal', icon: 'bi-terminal', open: () => openTerminal(game) });
  pc.addIcon({ id: 'report', label: 'Disclosure report', icon: 'bi-send-check', open: () => openReport(game) });
  pc.setHintProvider(() => currentHint(game));
  openBriefing(game);
}

function openBriefing(game) {
  const win = game.pc.openWindow({ id: 'briefing', title: 'Engagement briefing', icon: 'bi-briefcase', width: 520, height: 420 });
  const extra = {
    easy: 'Easy mode: the terminal warns you before anything leaves the agreed scope.',
    normal: 'The Rules of Engagement list each in-scope host with its address.',
    hard: 'Hard mode: the host inventory lists names only. A name is only in scope if it resolves into the agreed range: use resolve <name>.',
  }[game.pc.difficulty];
  replace(win.body,
    h('p', {}, `You are a penetration tester at ${CLIENT.tester}. ${CLIENT.name}, an online outdoor-gear shop, has hired you for an external security test today.`),
    h('ol', { class: 'small' },
      h('li', {}, 'Read the ', h('strong', {}, 'Rules of Engagement'), ': what you may touch, and what you must not.'),
      h('li', {}, 'In the ', h('strong', {}, 'Terminal'), ', scan in-scope hosts and inspect open ports to confirm findings.'),
      h('li', {}, 'In the ', h('strong', {}, 'Disclosure report'), ', rate each finding and choose how to disclose it.')),
    h('div', { class: 'alert alert-warning py-2 small' }, icon('bi-exclamation-triangle'),
      ' Scanning anything outside the agreed scope is unauthorised access, even by accident. Never touch client data.'),
    h('p', { class: 'small text-body-secondary' }, extra),
    h('button', { class: 'btn btn-primary btn-sm', type: 'button', 'data-testid': 'briefing-start', onclick: () => win.close() },
      icon('bi-play-fill'), ' Begin the engagement'));
}

/* ---------- Rules of Engagement ---------- */

function inventoryRows(game) {
  const hard = game.pc.difficulty === 'hard';
  const listed = HOSTS.filter((host) => host.name && (host.inScope || (hard && host.hardOnly)));
  return listed.map((host) => h('tr', {},
    h('td', { class: 'font-monospace' }, host.name),
    h('td', { class: 'font-monospace' }, hard ? '(resolve it)' : host.ip),
    h('td', {}, host.role || '—')));
}

function exclusionRows(game) {
  const hard = game.pc.difficulty === 'hard';
  const rows = hard
    ? [['192.0.2.15', 'Production payment gateway (card data): tested separately under payment-card rules'],
      ['203.0.113.0/24', 'Fastlane CDN: a third party\'s network'],
      ['198.51.100.0/24', 'Tidewater Freight, our logistics partner']]
    : [['payments.harborpine.test — 192.0.2.15', 'Production payment gateway (card data): tested separately under payment-card rules'],
      ['cdn.harborpine.test — 203.0.113.0/24', 'Fastlane CDN: a third party\'s network'],
      ['*.tidewater-freight.test — 198.51.100.0/24', 'Tidewater Freight, our logistics partner']];
  return rows.map(([what, why]) => h('tr', {}, h('td', { class: 'font-monospace' }, what), h('td', {}, why)));
}

function openRules(game) {
  game.opened.add('rules');
  const hard = game.pc.difficulty === 'hard';
  const win = game.pc.openWindow({ id: 'rules', title: 'Rules of Engagement.pdf', icon: 'bi-file-earmark-text', width: 640, height: 500 });
  replace(win.body, h('article', { class: 'l4-doc', 'data-testid': 'rules-document' },
    h('h2', { class: 'h5' }, 'Rules of Engagement — external security test'),
    h('p', { class: 'small' }, `Client: ${CLIENT.name} · Tester: ${CLIENT.tester} · Window: today 09:00–17:00 · Security contact: ${CLIENT.contact}, ${CLIENT.securityEmail}`),
    h('h3', { class: 'h6' }, '§1 In scope'),
    h('p', { class: 'small' }, hard
      ? 'Addresses 192.0.2.10 – 192.0.2.19, and hostnames under harborpine.test only when they resolve to an address in that range and not to an excluded one.'
      : 'Addresses 192.0.2.10 – 192.0.2.19 (except the exclusion in §2) and the hostnames below. Addresses .17–.19 are unassigned.'),
    h('table', { class: 'table table-sm small', 'data-testid': 'scope-inventory' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Host'), h('th', {}, 'Address'), h('th', {}, 'Role'))),
      h('tbody', {}, inventoryRows(game))),
    h('h3', { class: 'h6 text-danger' }, '§2 Out of scope — never scan, probe or sign in'),
    h('table', { class: 'table table-sm small', 'data-testid': 'scope-exclusions' },
      h('tbody', {}, exclusionRows(game))),
    h('h3', { class: 'h6' }, '§3 What you may do'),
    h('p', { class: 'small' }, 'Port scans, version checks and viewing pages. One sign-in attempt with a vendor\'s default credentials, changing nothing. No exploitation, no denial of service, no social engineering.'),
    h('h3', { class: 'h6' }, '§4 Client data'),
    h('p', { class: 'small' }, 'If you come across client data, stop: do not open, copy, change or delete it. Record only where it is.'),
    h('h3', { class: 'h6' }, '§5 Reporting'),
    h('p', { class: 'small mb-0' }, `Findings go privately to ${CLIENT.securityEmail} with evidence and a recommended fix. Agreed fix deadlines: Critical 7 days, High 30 days, Medium 90 days. No public disclosure without the client's written consent.`)));
}

/* ---------- Terminal ---------- */

const HELP_LINES = [
  'help                    this list',
  'scope                   what you may and may not touch',
  'resolve <host>          look up a hostname\'s address (DNS only, nothing sent to the host)',
  'scan <host>             scan a host\'s top 1000 TCP ports',
  'inspect <host> <port>   look closely at one open port',
  'findings                the findings recorded so far',
  'report                  open the disclosure report',
  'clear                   clear the screen',
];

function openTerminal(game) {
  game.opened.add('terminal');
  const win = game.pc.openWindow({ id: 'terminal', title: 'Terminal — tester@greyline', icon: 'bi-terminal', width: 760, height: 440 });
  if (game.terminal && game.terminal.output.isConnected) return;
  const output = h('div', { class: 'l4-output', 'data-testid': 'terminal-output', role: 'log', 'aria-live': 'polite' });
  const input = h('input', { class: 'l4-input', type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Command', 'data-testid': 'terminal-input' });
  game.terminal = { output, input, history: [], cursor: 0 };
  input.addEventListener('keydown', (event) => onTerminalKey(game, event));
  const screen = h('div', { class: 'l4-terminal', onclick: () => input.focus() },
    output, h('div', { class: 'l4-prompt-line' }, h('span', { class: 'l4-prompt' }, 'tester@greyline:~$'), input));
  replace(win.body, screen);
  print(game, ['Greyline field kit — type help for the commands.'], 'muted');
  input.focus();
}

function onTerminalKey(game, event) {
  const term = game.terminal;
  if (event.key === 'Enter') {
    const line = term.input.value.trim();
    term.input.value = '';
    if (line) {
      term.history.push(line);
      term.cursor = term.history.length;
      runCommand(game, line);
    }
  } else if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
    // Shell-style history, so a typo can be fixed without retyping.
    event.preventDefault();
    term.cursor = Math.max(0, Math.min(term.history.length, term.cursor + (event.key === 'ArrowUp' ? -1 : 1)));
    term.input.value = term.history[term.cursor] || '';
  }
}

function print(game, lines, kind = 'out') {
  const term = game.terminal;
  if (!term || !term.output.isConnected) return;
  for (const line of lines) term.output.append(h('div', { class: `l4-line l4-${kind}` }, line));
  term.output.scrollTop = term.output.scrollHeight;
}

function runCommand(game, line) {
  print(game, [`tester@greyline:~$ ${line}`], 'cmd');
  if (game.submitted) {
    print(game, ['The engagement is closed: your report has been sent.'], 'muted');
    return;
  }
  const [command, ...args] = line.split(/\s+/);
  const handlers = {
    help: () => print(game, HELP_LINES),
    scope: () => printScope(game),
    resolve: () => runResolve(game, args[0]),
    scan: () => runScan(game, args[0], line),
    inspect: () => runInspect(game, args[0], args[1], line),
    findings: () => printFindings(game),
    report: () => openReport(game),
    clear: () => game.terminal.output.replaceChildren(),
  };
  const name = command.toLowerCase();
  if (Object.hasOwn(handlers, name)) handlers[name]();
  else print(game, [`${command}: command not found. Type help.`], 'err');
}

function printScope(game) {
  const hard = game.pc.difficulty === 'hard';
  print(game, [
    'IN SCOPE:   192.0.2.10 – 192.0.2.19' + (hard ? ', and harborpine.test names that resolve there' : ', and the hosts listed in the RoE'),
    hard ? 'EXCLUDED:   192.0.2.15 · 203.0.113.0/24 · 198.51.100.0/24 — whatever name points at them'
      : 'EXCLUDED:   payments.harborpine.test (192.0.2.15) · cdn.harborpine.test (203.0.113.0/24) · *.tidewater-freight.test (198.51.100.0/24)',
    'ALLOWED:    scans, version checks, one default-credential sign-in. No exploits, no client data.',
  ]);
}

function runResolve(game, arg) {
  if (!arg) return print(game, ['usage: resolve <host>'], 'err');
  const host = resolveTarget(arg);
  if (!host || !host.name) return print(game, [`${arg}: no such hostname (NXDOMAIN)`], 'err');
  game.resolved.add(host.name);
  const note = game.pc.difficulty === 'easy' && !host.inScope ? `   ← OUT OF SCOPE: ${host.reason}` : '';
  return print(game, [`${host.name} has address ${host.ip}${note}`]);
}

/** A target outside the scope: on easy, warn once first; otherwise record the violation. */
function isBlockedByScope(game, host, line) {
  if (host.inScope) return false;
  if (game.pc.difficulty === 'easy' && game.pendingConfirmation !== line) {
    game.pendingConfirmation = line;
    print(game, [`Warning: ${hostLabel(host)} is OUT OF SCOPE — ${host.reason}.`, 'Nothing was sent. Repeat the exact command only if you really mean to break the rules.'], 'warn');
    return true;
  }
  game.pendingConfirmation = null;
  game.violations.push({ target: hostLabel(host), command: line });
  game.pc.recordMistake(`Scope violation: ${hostLabel(host)} is excluded from this engagement.`);
  print(game, [
    `[SCOPE VIOLATION] Packets went to ${hostLabel(host)}: ${host.reason}.`,
    'You had no permission to touch it. The probe was stopped and the incident is in the engagement log the client will read.',
  ], 'err');
  return true;
}

function runScan(game, arg, line) {
  if (!arg) return print(game, ['usage: scan <host>'], 'err');
  const host = resolveTarget(arg);
  if (!host) return print(game, [`${arg}: could not resolve host. Check the spelling against the Rules of Engagement.`], 'err');
  if (isBlockedByScope(game, host, line)) return null;
  game.scanned.add(host.ip);
  if (host.ports.length === 0) {
    return print(game, [`Scanning ${hostLabel(host)} …`, 'Host did not respond: 0 open ports. (Unassigned address.)']);
  }
  return print(game, [
    `Scanning ${hostLabel(host)} — top 1000 TCP ports`,
    'PORT       STATE  SERVICE      VERSION',
    ...host.ports.map((p) => `${`${p.port}/tcp`.padEnd(11)}open   ${p.service.padEnd(13)}${p.version}`),
    `${host.ports.length} open port(s). Look closer with: inspect ${host.name || host.ip} <port>`,
  ]);
}

function runInspect(game, arg, portText, line) {
  if (!arg || !portText) return print(game, ['usage: inspect <host> <port>'], 'err');
  const host = resolveTarget(arg);
  if (!host) return print(game, [`${arg}: could not resolve host.`], 'err');
  if (isBlockedByScope(game, host, line)) return null;
  const port = host.ports.find((p) => String(p.port) === portText.replace(/\/tcp$/, ''));
  if (!port) return print(game, [`${hostLabel(host)} port ${portText}: connection refused (nothing listens there; run scan first).`], 'err');
  print(game, [`Inspecting ${hostLabel(host)} port ${port.port}/${port.service}`, ...port.details]);
  if (port.findingId) recordFinding(game, port.findingId);
  return null;
}

function recordFinding(game, id) {
  const finding = FINDINGS.find((f) => f.id === id);
  if (game.found.includes(id)) {
    print(game, [`[already in your report] ${finding.title}`], 'muted');
    return;
  }
  game.found.push(id);
  const count = game.pc.difficulty === 'easy' ? ` (${game.found.length} of ${FINDINGS.length} found)` : '';
  print(game, [`[FINDING] ${finding.title} — added to your report${count}.`], 'finding');
  refreshReport(game);
}

function printFindings(game) {
  if (game.found.length === 0) return print(game, ['No findings yet.'], 'muted');
  return print(game, game.found.map((id) => {
    const f = FINDINGS.find((x) => x.id === id);
    return `• ${f.title} — ${f.host}:${f.port}`;
  }));
}

/* ---------- Disclosure report ---------- */

function openReport(game) {
  game.opened.add('report');
  const win = game.pc.openWindow({ id: 'report', title: 'Disclosure report', icon: 'bi-send-check', width: 700, height: 500 });
  if (game.report && game.report.findings.isConnected) return;
  const findings = h('div', { 'data-testid': 'report-findings' });
  const status = h('span', { class: 'small text-body-secondary', 'data-testid': 'report-status' });
  const submit = h('button', { class: 'btn btn-success btn-sm', type: 'button', 'data-testid': 'submit-level', disabled: true,
    onclick: () => submitReport(game) }, icon('bi-send'), ' Submit report');
  const feedback = h('div', { 'data-testid': 'level-feedback-area' });
  game.report = { findings, status, submit, feedback, choices: [], selects: [], shown: -1 };
  replace(win.body, h('div', { class: 'l4-report' },
    h('p', { class: 'small' }, `To: ${CLIENT.name} · rate what you found, then choose how it reaches the client.`),
    h('h3', { class: 'h6' }, '1. Findings and severity'), findings, severityGuide(),
    h('h3', { class: 'h6 mt-3' }, '2. How will you disclose these findings?'),
    choiceGroup(game, 'disclosure', DISCLOSURE_OPTIONS, 'disclosure'),
    h('h3', { class: 'h6 mt-3' }, '3. The backup files and any other client data you came across'),
    choiceGroup(game, 'dataHandling', DATA_HANDLING_OPTIONS, 'data-handling'),
    h('div', { class: 'd-flex align-items-center justify-content-between gap-2 mt-3' }, status, submit),
    feedback));
  refreshReport(game);
}

function severityGuide() {
  return h('details', { class: 'small mt-2' }, h('summary', {}, 'Severity guide'),
    h('ul', { class: 'mb-0 ps-3' }, SEVERITIES.map((s) => h('li', {}, h('strong', {}, s.label), ': ', s.guide))));
}

function choiceGroup(game, key, options, testidPrefix) {
  return h('div', { class: 'l4-choices', role: 'radiogroup' }, options.map((option) => {
    const input = h('input', { class: 'form-check-input', type: 'radio', name: `l4-${key}`, id: `l4-${key}-${option.id}`,
      value: option.id, 'data-testid': `${testidPrefix}-${option.id}`, checked: game[key] === option.id,
      onchange: () => { game[key] = option.id; refreshReport(game); } });
    game.report.choices.push(input);
    return h('div', { class: 'form-check small mb-1' }, input,
      h('label', { class: 'form-check-label', for: `l4-${key}-${option.id}` }, option.label));
  }));
}

function findingRow(game, finding) {
  const select = h('select', { class: 'form-select form-select-sm l4-severity', 'data-testid': `severity-${finding.id}`,
    'aria-label': `Severity of: ${finding.title}`,
    onchange: (event) => { game.severities[finding.id] = event.target.value; refreshReport(game); } },
  h('option', { value: '' }, 'Severity…'),
  SEVERITIES.map((s) => h('option', { value: s.id, selected: game.severities[finding.id] === s.id }, s.label)));
  return h('tr', { 'data-testid': `finding-${finding.id}` },
    h('td', {}, finding.title, h('div', { class: 'text-body-secondary font-monospace' }, `${finding.host}:${finding.port}`)),
    h('td', { class: 'l4-severity-cell' }, select));
}

function refreshReport(game) {
  const view = game.report;
  if (!view || !view.findings.isConnected) return;
  if (view.shown !== game.found.length) renderFindings(game); // rebuilt only when a finding is added
  const missing = missingDecisions(game);
  view.status.textContent = missing.length ? `Still needed: ${missing.join(', ')}.` : 'Ready to send.';
  view.submit.disabled = missing.length > 0 || game.submitted;
  for (const input of [...view.choices, ...view.selects]) input.disabled = game.submitted;
}

function renderFindings(game) {
  const view = game.report;
  const found = game.found.map((id) => FINDINGS.find((f) => f.id === id));
  const rows = found.map((f) => findingRow(game, f));
  view.selects = rows.map((row) => row.querySelector('select'));
  view.shown = found.length;
  replace(view.findings, found.length === 0
    ? h('p', { class: 'small text-body-secondary mb-0' }, 'No findings yet: scan in-scope hosts and inspect their open ports in the Terminal.')
    : h('table', { class: 'table table-sm small align-middle mb-0' }, h('tbody', {}, rows)));
}

function missingDecisions(game) {
  const missing = [];
  if (game.found.length === 0) missing.push('at least one finding');
  const unrated = game.found.filter((id) => !game.severities[id]).length;
  if (unrated) missing.push(`${unrated} severity rating(s)`);
  if (!game.disclosure) missing.push('a disclosure choice');
  if (!game.dataHandling) missing.push('a decision about the client data');
  return missing;
}

/* ---------- Hints, submission and feedback ---------- */

function currentHint(game) {
  if (game.submitted) return 'The engagement is over: the report window explains each decision.';
  if (!game.opened.has('rules')) return 'Open the Rules of Engagement first: it says exactly which hosts you may touch and which you must not.';
  if (game.scanned.size === 0 && game.found.length === 0) return 'Open the Terminal, type scope, then scan an in-scope address, for example: scan 192.0.2.10';
  const missing = FINDINGS.find((f) => !game.found.includes(f.id));
  if (missing) {
    const host = resolveTarget(missing.host);
    if (game.pc.difficulty === 'hard' && game.resolved.size === 0) {
      return 'Before scanning a name from the inventory, run resolve <name>: a harborpine.test name can still point at an excluded address.';
    }
    if (!game.scanned.has(host.ip)) return `You have not scanned ${host.name} yet. It is in scope.`;
    return `On ${host.name}, inspect port ${missing.port}: the scan banner alone does not tell the whole story.`;
  }
  const unrated = game.found.find((id) => !game.severities[id]);
  if (unrated || !game.opened.has('report')) return 'Type report in the Terminal and rate each finding with the severity guide.';
  if (!game.disclosure || !game.dataHandling) return 'Which choice keeps the client in control of the information, and leaves their data untouched? The Rules of Engagement §4–5 answer it.';
  return 'Everything is filled in. Check each severity against the guide once more, then submit.';
}

function submitReport(game) {
  if (game.submitted || missingDecisions(game).length > 0) return;
  const result = scoreReport({
    found: game.found, severities: game.severities, violations: game.violations.length,
    disclosure: game.disclosure, dataHandling: game.dataHandling, maxScore: game.pc.level.max_score,
  });
  // Wrong ratings and an irresponsible disclosure are mistakes, like leaving the scope.
  const wrongSeverities = game.found.filter((id) => game.severities[id] !== FINDINGS.find((f) => f.id === id).severity);
  for (let i = 0; i < wrongSeverities.length; i += 1) game.pc.recordMistake();
  if (!DISCLOSURE_OPTIONS.find((o) => o.id === game.disclosure).correct) game.pc.recordMistake();
  if (!DATA_HANDLING_OPTIONS.find((o) => o.id === game.dataHandling).correct) game.pc.recordMistake();
  game.submitted = true;
  refreshReport(game);
  showFeedback(game, result);
  game.pc.finish({ score: result.score, summary: summaryLines(game, result) });
}

function summaryLines(game, result) {
  const disclosure = DISCLOSURE_OPTIONS.find((o) => o.id === game.disclosure);
  const data = DATA_HANDLING_OPTIONS.find((o) => o.id === game.dataHandling);
  const exact = game.found.filter((id) => game.severities[id] === FINDINGS.find((f) => f.id === id).severity).length;
  return [
    `Findings identified: ${game.found.length} of ${FINDINGS.length} (+${result.parts.findings}).`,
    `Severities exactly right: ${exact} of ${game.found.length} (+${result.parts.severities}).`,
    game.violations.length === 0 ? `Stayed in scope (+${result.parts.scope}).`
      : `Scope violations: ${game.violations.length} (${result.parts.scope}).`,
    `Disclosure: ${disclosure.correct ? 'responsible, private report' : 'irresponsible'} (+${result.parts.disclosure}). ${disclosure.why}`,
    `Client data: ${data.correct ? 'left untouched' : 'mishandled'} (+${result.parts.dataHandling}). ${data.why}`,
  ];
}

function findingFeedback(game, finding) {
  const chosen = game.severities[finding.id];
  const correct = SEVERITIES.find((s) => s.id === finding.severity).label;
  if (!game.found.includes(finding.id)) {
    return h('li', { class: 'mb-2', 'data-testid': `feedback-${finding.id}` }, h('span', { class: 'badge text-bg-secondary me-1' }, 'Missed'),
      h('strong', {}, finding.title), ` (${finding.host}:${finding.port}, ${correct}). ${finding.why} Fix: ${finding.fix}`);
  }
  const right = chosen === finding.severity;
  const label = SEVERITIES.find((s) => s.id === chosen).label;
  return h('li', { class: 'mb-2', 'data-testid': `feedback-${finding.id}` },
    h('span', { class: `badge me-1 text-bg-${right ? 'success' : 'warning'}` }, right ? `${label} ✓` : `${label} → ${correct}`),
    h('strong', {}, finding.title), `. ${finding.why} Fix: ${finding.fix}`);
}

function showFeedback(game, result) {
  const view = game.report;
  replace(view.feedback, h('div', { class: 'alert alert-info mt-3 mb-0 small', 'data-testid': 'level-feedback' },
    h('p', { class: 'fs-6 fw-semibold mb-2', 'data-testid': 'level-score' }, `Score: ${result.score} / ${game.pc.level.max_score}`),
    h('ul', { class: 'ps-3' }, summaryLines(game, result).map((line) => h('li', {}, line))),
    game.violations.length ? h('p', {}, `Out-of-scope actions: ${game.violations.map((v) => v.command).join(' · ')}`) : null,
    h('ul', { class: 'list-unstyled mb-0' }, FINDINGS.map((f) => findingFeedback(game, f)))));
  // Scroll the report window (not the page) to the feedback.
  const body = view.feedback.closest('.sim-window-body');
  if (body) scrollWithin(body, view.feedback);
}
