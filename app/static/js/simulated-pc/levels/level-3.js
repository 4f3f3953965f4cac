// Level 3 — Malware Mayhem: a slow office workstation. The player triages its processes in a
// simulated Task Manager, gathers evidence (process details, the security log, startup entries)
// and isolates only the malware, leaving legitimate and critical system processes alone.

import { h, icon, loadLevelStylesheet, replace } from '../dom.js';

const USER_DIR = 'C:\\Users\\dana.ortiz';
const SYS32 = 'C:\\Windows\\System32';

/**
 * The workstation's processes. `malicious` and `critical` are the answers; `hardOnly` processes
 * appear only on hard; `cues` are the analyst notes shown on easy; `explanation` is the feedback.
 */
export const PROCESSES = [
  {
    pid: 4, name: 'System', description: 'NT Kernel & System', cpu: 0.8, memoryMb: 0.1,
    path: `${SYS32}\\ntoskrnl.exe`, commandLine: '(kernel)', publisher: 'Microsoft Windows',
    signature: 'valid', parent: 'none (started by the boot loader)', started: '07:58 (boot)',
    network: [], startup: 'Part of Windows itself',
    malicious: false, critical: true,
    cues: ['The Windows kernel: stopping it would crash the PC.'],
    explanation: 'The Windows kernel. It can never be stopped without crashing the computer.',
  },
  {
    pid: 612, name: 'csrss.exe', description: 'Client Server Runtime Process', cpu: 0.2, memoryMb: 4.8,
    path: `${SYS32}\\csrss.exe`, commandLine: `${SYS32}\\csrss.exe ObjectDirectory=\\Windows`,
    publisher: 'Microsoft Windows', signature: 'valid', parent: 'smss.exe (PID 520, exited)',
    started: '07:58 (boot)', network: [], startup: 'Part of Windows itself',
    malicious: false, critical: true,
    cues: ['Core Windows process in System32 with a valid signature.'],
    explanation: 'A core part of Windows: ending it causes an immediate blue screen.',
  },
  {
    pid: 748, name: 'lsass.exe', description: 'Local Security Authority Process', cpu: 0.4, memoryMb: 12.5,
    path: `${SYS32}\\lsass.exe`, commandLine: `${SYS32}\\lsass.exe`, publisher: 'Microsoft Windows',
    signature: 'valid', parent: 'wininit.exe (PID 684)', started: '07:58 (boot)',
    network: [], startup: 'Part of Windows itself',
    malicious: false, critical: true,
    cues: ['Handles sign-ins; stopping it forces a restart.'],
    explanation: 'Handles sign-ins and passwords. Attackers like to read its memory, but the process itself is genuine and stopping it forces a restart.',
  },
  {
    pid: 1020, name: 'svchost.exe', description: 'Host Process for Windows Services', cpu: 1.1, memoryMb: 28.3,
    path: `${SYS32}\\svchost.exe`, commandLine: `${SYS32}\\svchost.exe -k netsvcs -p`,
    publisher: 'Microsoft Windows', signature: 'valid', parent: 'services.exe (PID 700)',
    started: '07:58 (boot)', network: ['No connections right now (hosts the Task Scheduler, Windows Update)'],
    startup: 'Started by the Service Control Manager',
    malicious: false, critical: true,
    cues: ['Genuine svchost: System32 path, valid signature, parent services.exe.'],
    explanation: 'The genuine service host: System32 path, valid Microsoft signature, started by services.exe. It runs core services; ending it cripples Windows.',
  },
  {
    pid: 3340, name: 'explorer.exe', description: 'Windows Explorer', cpu: 1.9, memoryMb: 96.4,
    path: 'C:\\Windows\\explorer.exe', commandLine: 'C:\\Windows\\explorer.exe', publisher: 'Microsoft Windows',
    signature: 'valid', parent: 'userinit.exe (PID 3312, exited)', started: '08:02 (sign-in)',
    network: [], startup: 'The user shell, started at sign-in',
    malicious: false, critical: false,
    cues: ['The desktop and file browser of the signed-in user.'],
    explanation: 'The desktop, taskbar and file browser. Legitimate: isolating it only takes the user\'s desktop away.',
  },
  {
    pid: 2288, name: 'spoolsv.exe', description: 'Spooler SubSystem App', cpu: 0.1, memoryMb: 9.7,
    path: `${SYS32}\\spoolsv.exe`, commandLine: `${SYS32}\\spoolsv.exe`, publisher: 'Microsoft Windows',
    signature: 'valid', parent: 'services.exe (PID 700)', started: '07:59 (boot)',
    network: ['10.0.5.40:9100 — office printer MF-PRN-2 (idle)'], startup: 'Service: Print Spooler (automatic)',
    malicious: false, critical: false,
    cues: ['The print service, talking to the office printer on the local network.'],
    explanation: 'The Windows print service, talking only to the office printer on the local network.',
  },
  {
    pid: 4410, name: 'BluefinBackup.exe', description: 'Bluefin Backup Agent', cpu: 17.5, memoryMb: 612,
    path: 'C:\\Program Files\\Bluefin Backup\\BluefinBackup.exe',
    commandLine: '"C:\\Program Files\\Bluefin Backup\\BluefinBackup.exe" --service --policy daily-1000',
    publisher: 'Bluefin Data Ltd', signature: 'valid', parent: 'services.exe (PID 700)', started: '10:00 (scheduled)',
    network: ['backup-eu.bluefin-data.example:443 — HTTPS upload, started 10:00 (daily backup window)'],
    startup: 'Service: Bluefin Backup Agent (automatic)',
    malicious: false, critical: false,
    cues: ['Busy, but signed by its vendor, in Program Files and running its scheduled 10:00 backup.'],
    explanation: 'Busy but legitimate: the company backup agent, signed by its vendor, installed in Program Files and running its scheduled 10:00 upload to the vendor\'s cloud.',
  },
  {
    pid: 5120, name: 'nimbus.exe', description: 'Nimbus Browser', cpu: 9.8, memoryMb: 1430,
    path: 'C:\\Program Files\\Nimbus\\nimbus.exe', commandLine: '"C:\\Program Files\\Nimbus\\nimbus.exe" (23 tabs)',
    publisher: 'Nimbus Software Foundation', signature: 'valid', parent: 'explorer.exe (PID 3340)', started: '08:05',
    network: ['portal.marlowefinch.example:443', 'mail.marlowefinch.example:443', 'video.example.net:443 (a streaming tab)'],
    startup: 'Started by the user',
    malicious: false, critical: false,
    cues: ['A browser with 23 tabs: lots of memory, but signed and started by the user.'],
    explanation: 'A web browser with 23 tabs open uses lots of memory and some CPU. It is signed, installed in Program Files and was started by the user.',
  },
  {
    pid: 6032, name: 'chatterbox.exe', description: 'ChatterBox team chat', cpu: 1.2, memoryMb: 265,
    path: `${USER_DIR}\\AppData\\Local\\ChatterBox\\chatterbox.exe`,
    commandLine: `${USER_DIR}\\AppData\\Local\\ChatterBox\\chatterbox.exe --minimized`,
    publisher: 'ChatterBox Inc.', signature: 'valid', parent: 'explorer.exe (PID 3340)', started: '08:02 (sign-in)',
    network: ['chat.chatterbox.example:443 — one long-lived HTTPS connection'],
    startup: 'HKCU Run: ChatterBox (signed)',
    malicious: false, critical: false,
    cues: ['Per-user apps often live in AppData; this one is validly signed by its vendor.'],
    explanation: 'It runs from the user\'s AppData folder like many per-user apps, but it is validly signed and talks only to its own service. An AppData path alone does not make a program malware.',
  },
  {
    pid: 7712, name: 'svchost.exe', description: 'Host Process for Windows Services', cpu: 0.6, memoryMb: 18.1,
    path: `${USER_DIR}\\AppData\\Local\\Temp\\svchost.exe`,
    commandLine: `${USER_DIR}\\AppData\\Local\\Temp\\svchost.exe /silent`,
    publisher: '(not signed)', signature: 'unsigned', parent: 'wscript.exe (PID 7690, exited)', started: '09:12',
    network: ['203.0.113.47:8443 — 312 bytes out every 60 s, exactly'],
    startup: 'HKCU RunOnce: "WindowsHost" → %TEMP%\\svchost.exe',
    malicious: true, critical: false,
    hint: 'Two processes share a famous Windows name. Only one of them runs from C:\\Windows\\System32.',
    cues: ['Runs from a user Temp folder', 'Not signed', 'Started by a script host (wscript.exe), not services.exe', 'Calls a bare IP address every 60 s'],
    explanation: 'A fake svchost.exe. The real one only runs from System32 and is started by services.exe; this copy sits in a Temp folder, is unsigned, was started by a script from an email attachment and calls a bare IP address every 60 s: a command-and-control beacon.',
  },
  {
    pid: 8120, name: 'wuhelper.exe', description: 'Windows Update Helper', cpu: 58.4, memoryMb: 2210,
    path: 'C:\\ProgramData\\WinUpdate\\wuhelper.exe',
    commandLine: 'wuhelper.exe -o stratum+tcp://pool.coinminer.example:3333 -u 4BxQ9…k2Lm --threads 6 --background',
    publisher: '(not signed)', signature: 'unsigned', parent: 'svchost.exe (PID 1020, Task Scheduler)', started: '08:02 (at logon)',
    network: ['pool.coinminer.example:3333 — stratum+tcp mining pool, connection held open'],
    startup: 'Scheduled task "WinUpdate Helper": at logon, hidden',
    malicious: true, critical: false,
    hint: 'Which process uses the most CPU, and where does its command line connect to?',
    cues: ['Pegs the CPU around the clock', 'Command line names a mining pool and a wallet', 'Not signed, yet claims to be a Windows Update helper'],
    explanation: 'A cryptocurrency miner: it pegs the CPU, its command line points at a mining pool (stratum+tcp, port 3333) and a wallet, and it is unsigned while pretending to be a Windows Update helper.',
  },
  {
    pid: 6604, name: 'inputassist.exe', description: 'Input Assistant', cpu: 0.3, memoryMb: 7.9,
    path: `${USER_DIR}\\AppData\\Roaming\\InputAssist\\inputassist.exe`,
    commandLine: 'inputassist.exe --hook kbd --log %APPDATA%\\InputAssist\\keys.log',
    publisher: '(not signed)', signature: 'unsigned', parent: 'explorer.exe (PID 3340, Run key at logon)', started: '08:02 (at logon)',
    network: ['198.51.100.23:21 — plain FTP upload every hour (last file: keys_0412_10.log, 14 KB)'],
    startup: 'HKCU Run: InputAssist → %APPDATA%\\InputAssist\\inputassist.exe',
    malicious: true, critical: false,
    hint: 'Low CPU does not mean harmless: look in Startup apps for an unsigned entry that hooks the keyboard.',
    cues: ['Hooks the keyboard and writes keys.log', 'Uploads a log file every hour over plain FTP', 'Not signed, restarts at every logon'],
    explanation: 'A keylogger: quiet on CPU, but it hooks the keyboard, writes keys.log, uploads it hourly over plain FTP to an unknown address and restarts from a Run key at every logon. Low CPU does not mean harmless.',
  },
  {
    pid: 5544, name: 'RuntimeBroker.exe', description: 'Runtime Broker', cpu: 0.2, memoryMb: 14.2,
    path: `${SYS32}\\RuntimeBroker.exe`, commandLine: `${SYS32}\\RuntimeBroker.exe -Embedding`,
    publisher: 'Microsoft Windows', signature: 'valid', parent: 'svchost.exe (PID 1020)', started: '08:03',
    network: [], startup: 'Started by Windows on demand',
    malicious: false, critical: false, hardOnly: true,
    cues: ['Genuine: System32 path, valid signature, started by svchost.exe.'],
    explanation: 'The genuine Runtime Broker: System32 path, valid Microsoft signature, started by svchost.exe.',
  },
  {
    pid: 9344, name: 'RuntimeBroker.exe', description: 'Runtime Broker', cpu: 0.9, memoryMb: 22.6,
    path: 'C:\\Users\\Public\\Libraries\\RuntimeBroker.exe', commandLine: 'C:\\Users\\Public\\Libraries\\RuntimeBroker.exe -Embedding',
    publisher: 'Microsoft Corporation (claimed)', signature: 'invalid', parent: 'rundll32.exe (PID 9301, exited)', started: '09:13',
    network: ['192.0.2.77:443 — HTTPS roughly every 5 minutes, with random jitter'],
    startup: 'Scheduled task "Runtime Broker Update" → C:\\Users\\Public\\Libraries\\RuntimeBroker.exe',
    malicious: true, critical: false, hardOnly: true,
    hint: 'One process claims to be from Microsoft, but its signature does not verify. Compare the two Runtime Brokers.',
    cues: ['Runs from a public folder anyone can write to', 'Claims Microsoft, but the signature does not verify', 'Jittered HTTPS calls to a bare IP address'],
    explanation: 'A disguised implant. The real RuntimeBroker.exe lives in System32 and is started by svchost.exe; this copy sits in a public folder anyone can write to, its "Microsoft" signature does not verify, and its jittered HTTPS calls are designed to blend in.',
  },
];

/** Startup entries (the Autoruns view); `pid` ties an entry to a running process. */
export const STARTUP_ENTRIES = [
  { location: 'Service', name: 'Bluefin Backup Agent', command: '"C:\\Program Files\\Bluefin Backup\\BluefinBackup.exe" --service', publisher: 'Bluefin Data Ltd', pid: 4410 },
  { location: 'Service', name: 'Print Spooler', command: `${SYS32}\\spoolsv.exe`, publisher: 'Microsoft Windows', pid: 2288 },
  { location: 'HKCU Run', name: 'ChatterBox', command: '%LOCALAPPDATA%\\ChatterBox\\chatterbox.exe --minimized', publisher: 'ChatterBox Inc.', pid: 6032 },
  { location: 'HKCU Run', name: 'InputAssist', command: '%APPDATA%\\InputAssist\\inputassist.exe --hook kbd', publisher: '(not signed)', pid: 6604 },
  { location: 'HKCU RunOnce', name: 'WindowsHost', command: '%TEMP%\\svchost.exe /silent', publisher: '(not signed)', pid: 7712 },
  { location: 'Scheduled task', name: 'WinUpdate Helper', command: 'C:\\ProgramData\\WinUpdate\\wuhelper.exe -o stratum+tcp://pool.coinminer.example:3333 --background', publisher: '(not signed)', pid: 8120 },
  { location: 'Scheduled task', name: 'Nimbus Update', command: '"C:\\Program Files\\Nimbus\\nimbus-updater.exe" --daily', publisher: 'Nimbus Software Foundation', pid: null },
  { location: 'Scheduled task', name: 'Runtime Broker Update', command: 'C:\\Users\\Public\\Libraries\\RuntimeBroker.exe -Embedding', publisher: 'Microsoft Corporation (signature invalid)', pid: 9344, hardOnly: true },
];

/** The workstation's security and firewall log for this morning. */
export const SECURITY_LOG = [
  { time: '08:02:11', source: 'Task Scheduler', event: 'Task "WinUpdate Helper" started C:\\ProgramData\\WinUpdate\\wuhelper.exe (PID 8120)' },
  { time: '08:02:15', source: 'Firewall', event: 'Outbound allowed: wuhelper.exe (8120) → pool.coinminer.example:3333' },
  { time: '09:00:03', source: 'Firewall', event: 'Outbound allowed: inputassist.exe (6604) → 198.51.100.23:21 FTP, STOR keys_0412_09.log (13 KB)' },
  { time: '09:11:48', source: 'Mail', event: 'Attachment Invoice_0412.pdf.js saved to Downloads (from billing@quick-invoices.example)' },
  { time: '09:12:02', source: 'Process', event: 'wscript.exe (7690) ran Downloads\\Invoice_0412.pdf.js' },
  { time: '09:12:04', source: 'File system', event: 'wscript.exe (7690) created %TEMP%\\svchost.exe and started it (PID 7712)' },
  { time: '09:13:20', source: 'Process', event: 'rundll32.exe (9301) started C:\\Users\\Public\\Libraries\\RuntimeBroker.exe (PID 9344)', hardOnly: true },
  { time: '09:57:13', source: 'Firewall', event: 'Outbound allowed: RuntimeBroker.exe (9344) → 192.0.2.77:443', hardOnly: true },
  { time: '09:58:00', source: 'Firewall', event: 'Outbound allowed: svchost.exe (7712) → 203.0.113.47:8443, 312 B' },
  { time: '09:59:00', source: 'Firewall', event: 'Outbound allowed: svchost.exe (7712) → 203.0.113.47:8443, 312 B' },
  { time: '10:00:00', source: 'Firewall', event: 'Outbound allowed: svchost.exe (7712) → 203.0.113.47:8443, 312 B' },
  { time: '10:00:01', source: 'Bluefin Backup', event: 'Scheduled backup started (policy daily-1000) → backup-eu.bluefin-data.example:443' },
  { time: '10:00:02', source: 'Firewall', event: 'Outbound allowed: inputassist.exe (6604) → 198.51.100.23:21 FTP, STOR keys_0412_10.log (14 KB)' },
  { time: '10:00:41', source: 'Firewall', event: 'Outbound allowed: nimbus.exe (5120) → portal.marlowefinch.example:443' },
  { time: '10:01:00', source: 'Firewall', event: 'Outbound allowed: svchost.exe (7712) → 203.0.113.47:8443, 312 B' },
  { time: '10:02:00', source: 'Firewall', event: 'Outbound allowed: svchost.exe (7712) → 203.0.113.47:8443, 312 B' },
  { time: '10:02:41', source: 'Firewall', event: 'Outbound allowed: RuntimeBroker.exe (9344) → 192.0.2.77:443', hardOnly: true },
  { time: '10:03:00', source: 'Firewall', event: 'Outbound allowed: svchost.exe (7712) → 203.0.113.47:8443, 312 B' },
];

/**
 * The level's own points: `points` are shared between the malware processes; each legitimate
 * process isolated and each attempt to stop a critical one costs points, so isolating everything
 * does not pay. The score is those points as a share of the level's max_score.
 */
export const SCORING = { points: 1000, wrongIsolation: 150, criticalAttempt: 200 };

/** A number of the level's points as score, on a level whose max_score is `maxScore`. */
export function pointsToScore(points, maxScore) {
  return Math.round((maxScore * points) / SCORING.points);
}

/** The processes, startup entries or log lines shown on a difficulty. */
export function forDifficulty(items, difficulty) {
  return items.filter((item) => difficulty === 'hard' || !item.hardOnly);
}

/**
 * Score an investigation from the player's choices only.
 * @param {object[]} processes the processes shown on this difficulty
 * @param {Set<number>} isolated PIDs the player isolated
 * @param {number} criticalAttempts times the player tried to isolate a critical process
 * @param {number} maxScore the level's max_score (a perfect investigation scores exactly this)
 */
export function scoreInvestigation(processes, isolated, criticalAttempts, maxScore) {
  const malware = processes.filter((p) => p.malicious);
  const legitimate = processes.filter((p) => !p.malicious);
  const caught = malware.filter((p) => isolated.has(p.pid));
  const spared = legitimate.filter((p) => !isolated.has(p.pid));
  const disrupted = legitimate.filter((p) => isolated.has(p.pid));
  // Counted in 1/malware.length of a point, so the sum stays whole and is rounded only once.
  const outOf = SCORING.points * malware.length;
  const points = SCORING.points * caught.length
    - malware.length * (SCORING.wrongIsolation * disrupted.length + SCORING.criticalAttempt * criticalAttempts);
  return {
    score: Math.round((maxScore * Math.max(0, Math.min(outOf, points))) / outOf),
    malwareScore: Math.round((maxScore * caught.length) / malware.length),
    wrongIsolationCost: pointsToScore(SCORING.wrongIsolation, maxScore),
    criticalAttemptCost: pointsToScore(SCORING.criticalAttempt, maxScore),
    caught,
    missed: malware.filter((p) => !isolated.has(p.pid)),
    spared,
    disrupted,
    malwareCount: malware.length,
    legitimateCount: legitimate.length,
  };
}

function formatMemory(mb) {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb.toFixed(1)} MB`;
}

function signatureText(p) {
  if (p.signature === 'valid') return `Valid signature — ${p.publisher}`;
  if (p.signature === 'invalid') return `Signature does NOT verify — file claims "${p.publisher.replace(' (claimed)', '')}"`;
  return 'Not signed — no publisher';
}

/** Start the level: desktop icons, briefing, and the investigation state. */
export function start(pc) {
  loadLevelStylesheet(3);
  const game = {
    pc,
    processes: forDifficulty(PROCESSES, pc.difficulty),
    inspected: new Set(),
    isolated: new Set(),
    criticalAttempts: 0,
    opened: new Set(),
    submitted: false,
    view: null, // the open Task Manager's live elements
  };
  pc.addIcon({ id: 'ticket', label: 'Helpdesk ticket', icon: 'bi-ticket-detailed', open: () => openBriefing(game) });
  pc.addIcon({ id: 'task-manager', label: 'Task Manager', icon: 'bi-cpu', open: () => openTaskManager(game) });
  pc.addIcon({ id: 'security-log', label: 'Security Log', icon: 'bi-journal-text', open: () => openSecurityLog(game) });
  pc.addIcon({ id: 'startup', label: 'Startup Apps', icon: 'bi-rocket-takeoff', open: () => openStartup(game) });
  pc.setHintProvider(() => currentHint(game));
  openBriefing(game);
}

function openBriefing(game) {
  const win = game.pc.openWindow({ id: 'briefing', title: 'Helpdesk ticket #4471', icon: 'bi-ticket-detailed', width: 520, height: 430 });
  const extra = {
    easy: 'Easy mode: each process\'s details include analyst notes pointing out what is normal and what is not.',
    normal: 'The Publisher column shows who signed each program.',
    hard: 'Hard mode: the Publisher column is gone and one intruder is better disguised. Inspect carefully.',
  }[game.pc.difficulty];
  replace(
    win.body,
    h('p', { class: 'mb-2' }, h('strong', {}, 'From: '), 'Dana Ortiz, Marlowe & Finch Architects'),
    h('p', {}, '"My PC (MF-WS-023) has been crawling since yesterday, the fan never stops, and a window flashed up for a second after I opened an invoice attachment this morning."'),
    h('p', {}, 'You are on IT support. Open ', h('strong', {}, 'Task Manager'), ', inspect every process, and ',
      h('strong', {}, 'isolate'), ' each one that is malware. Use the ', h('strong', {}, 'Security Log'), ' and ',
      h('strong', {}, 'Startup Apps'), ' for more evidence.'),
    h('div', { class: 'alert alert-warning py-2 small' }, icon('bi-exclamation-triangle'),
      ' Never isolate critical Windows processes, and leave legitimate programs running: the user still has work to do.'),
    h('p', { class: 'small text-body-secondary' }, extra),
    h('button', { class: 'btn btn-primary btn-sm', type: 'button', 'data-testid': 'briefing-start', onclick: () => win.close() },
      icon('bi-search'), ' Start investigating'),
  );
}

/* ---------- Task Manager ---------- */

function openTaskManager(game) {
  game.opened.add('task-manager');
  const win = game.pc.openWindow({ id: 'task-manager', title: 'Task Manager — MF-WS-023', icon: 'bi-cpu', width: 900, height: 560 });
  if (win.body.childElementCount > 0) return; // already open: just brought to front
  const showPublisher = game.pc.difficulty !== 'hard';
  const rows = new Map(game.processes.map((p) => [p.pid, processRow(game, p, showPublisher)]));
  const detail = h('div', { class: 'l3-detail', 'data-testid': 'process-detail' },
    h('p', { class: 'text-body-secondary small mb-0' }, 'Select Inspect on a process to see its details.'));
  const progress = h('span', { class: 'small', 'data-testid': 'review-progress' });
  const submit = h('button', { class: 'btn btn-success btn-sm', type: 'button', 'data-testid': 'submit-level', disabled: true,
    onclick: () => submitInvestigation(game) }, icon('bi-send-check'), ' Submit incident report');
  game.view = { win, rows, detail, progress, submit };
  replace(win.body, h('div', { class: 'l3-taskman' },
    taskManagerToolbar(game),
    h('div', { class: 'l3-main' },
      h('div', { class: 'l3-table-wrap' }, processTable(rows, showPublisher)),
      detail),
    h('div', { class: 'l3-footer' }, progress, submit)));
  refreshTaskManager(game);
}

function taskManagerToolbar(game) {
  const totalCpu = game.processes.reduce((sum, p) => sum + p.cpu, 0);
  return h('div', { class: 'l3-toolbar' },
    h('span', { class: 'badge text-bg-danger' }, icon('bi-speedometer'), ` CPU ${Math.round(totalCpu)}%`),
    h('span', { class: 'small text-body-secondary' }, `${game.processes.length} processes`),
    h('button', { class: 'btn btn-outline-info btn-sm ms-auto', type: 'button', 'data-testid': 'open-startup', onclick: () => openStartup(game) },
      icon('bi-rocket-takeoff'), ' Startup apps'),
    h('button', { class: 'btn btn-outline-info btn-sm', type: 'button', 'data-testid': 'open-security-log', onclick: () => openSecurityLog(game) },
      icon('bi-journal-text'), ' Security log'));
}

function processTable(rows, showPublisher) {
  const headers = ['Name', 'PID', 'CPU', 'Memory', showPublisher && 'Publisher', 'Status', 'Action'].filter((x) => x !== false);
  return h('table', { class: 'table table-sm table-hover align-middle mb-0 l3-table', 'data-testid': 'process-table' },
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, [...rows.values()].map((row) => row.tr)));
}

function processRow(game, p, showPublisher) {
  const seen = h('span', { class: 'ms-1 text-info', title: 'Inspected', hidden: true }, icon('bi-eye'));
  const status = h('span', { 'data-testid': `status-${p.pid}` });
  const inspect = h('button', { class: 'btn btn-outline-secondary btn-sm', type: 'button', 'data-testid': `inspect-${p.pid}`,
    title: `Inspect ${p.name}`, 'aria-label': `Inspect ${p.name} (PID ${p.pid})`, onclick: () => inspectProcess(game, p) }, icon('bi-search'));
  const isolate = h('button', { class: 'btn btn-outline-danger btn-sm', type: 'button', 'data-testid': `isolate-${p.pid}`,
    onclick: () => toggleIsolation(game, p) }, 'Isolate');
  const publisherCell = showPublisher
    ? h('td', { class: p.signature === 'valid' ? '' : 'text-warning' }, p.publisher)
    : null;
  const tr = h('tr', { 'data-testid': `process-${p.pid}` },
    h('td', { class: 'text-nowrap' }, p.name, seen),
    h('td', { class: 'font-monospace' }, String(p.pid)),
    h('td', { class: `text-nowrap ${p.cpu > 40 ? 'text-danger fw-semibold' : ''}` }, `${p.cpu.toFixed(1)}%`),
    h('td', { class: 'text-nowrap' }, formatMemory(p.memoryMb)),
    publisherCell,
    h('td', { class: 'text-nowrap' }, status),
    h('td', { class: 'text-end text-nowrap' }, inspect, ' ', isolate));
  return { tr, seen, status, inspect, isolate };
}

function refreshTaskManager(game) {
  const view = game.view;
  if (!view || !view.win.body.isConnected) return; // the Task Manager was closed
  for (const p of game.processes) {
    const row = view.rows.get(p.pid);
    const isolated = game.isolated.has(p.pid);
    row.tr.classList.toggle('l3-isolated', isolated);
    row.seen.hidden = !game.inspected.has(p.pid);
    replace(row.status, isolated
      ? h('span', { class: 'badge text-bg-danger' }, 'Isolated')
      : h('span', { class: 'badge text-bg-success' }, 'Running'));
    row.isolate.textContent = isolated ? 'Release' : 'Isolate';
    row.isolate.className = `btn btn-sm ${isolated ? 'btn-danger' : 'btn-outline-danger'}`;
    row.isolate.disabled = game.submitted;
  }
  const left = game.processes.length - game.inspected.size;
  view.progress.textContent = `Inspected ${game.inspected.size} of ${game.processes.length} · isolated ${game.isolated.size}`
    + (left > 0 && !game.submitted ? ` · inspect ${left} more to submit` : '');
  view.submit.disabled = left > 0 || game.submitted;
}

function inspectProcess(game, p) {
  game.inspected.add(p.pid);
  if (game.view && game.view.win.body.isConnected) replace(game.view.detail, processDetail(game, p));
  refreshTaskManager(game);
}

function processDetail(game, p) {
  // Label above value: the details pane is narrow and paths are long.
  const field = (label, value) => [h('dt', { class: 'text-body-secondary fw-normal' }, label), h('dd', { class: 'text-break' }, value)];
  const signatureClass = p.signature === 'valid' ? 'text-success' : 'text-danger';
  return h('div', { 'data-testid': `detail-${p.pid}` },
    h('h3', { class: 'h6' }, icon('bi-file-earmark-binary'), ` ${p.name} — PID ${p.pid}`),
    h('dl', { class: 'small mb-2 l3-fields' },
      field('Description', p.description),
      field('Path', h('span', { class: 'font-monospace' }, p.path)),
      field('Command line', h('span', { class: 'font-monospace' }, p.commandLine)),
      field('Signature', h('span', { class: signatureClass }, signatureText(p))),
      field('Parent', p.parent),
      field('Started', p.started),
      field('Network', p.network.length ? h('ul', { class: 'ps-3 mb-0' }, p.network.map((n) => h('li', {}, n))) : 'No connections'),
      field('Autostart', p.startup)),
    game.pc.difficulty === 'easy' ? analystNotes(p) : null);
}

function analystNotes(p) {
  return h('div', { class: 'alert alert-info py-2 small mb-0', 'data-testid': 'analyst-notes' },
    h('strong', {}, 'Analyst notes'),
    h('ul', { class: 'mb-0 ps-3' }, p.cues.map((cue) => h('li', {}, cue))));
}

function toggleIsolation(game, p) {
  if (game.submitted) return;
  if (p.critical) {
    // Windows itself refuses: the attempt is the mistake, the process keeps running.
    game.criticalAttempts += 1;
    game.pc.recordMistake(`Blocked: ${p.name} (PID ${p.pid}) is a critical Windows process. Stopping it would crash the PC.`);
    return;
  }
  // Isolation is reversible until the report is submitted; the row's status shows the choice.
  if (game.isolated.has(p.pid)) game.isolated.delete(p.pid);
  else game.isolated.add(p.pid);
  refreshTaskManager(game);
}

/* ---------- Evidence windows ---------- */

function openSecurityLog(game) {
  game.opened.add('security-log');
  const win = game.pc.openWindow({ id: 'security-log', title: 'Security Log — MF-WS-023', icon: 'bi-journal-text', width: 760, height: 420 });
  const entries = forDifficulty(SECURITY_LOG, game.pc.difficulty);
  replace(win.body,
    h('p', { class: 'small text-body-secondary mb-2' }, 'Firewall, process and file events for this morning (newest last).'),
    h('table', { class: 'table table-sm small mb-0', 'data-testid': 'security-log-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Source'), h('th', {}, 'Event'))),
      h('tbody', {}, entries.map((e, i) => h('tr', { 'data-testid': `log-entry-${i}` },
        h('td', { class: 'font-monospace text-nowrap' }, e.time), h('td', { class: 'text-nowrap' }, e.source), h('td', {}, e.event))))));
}

function openStartup(game) {
  game.opened.add('startup');
  const win = game.pc.openWindow({ id: 'startup', title: 'Startup Apps (Autoruns)', icon: 'bi-rocket-takeoff', width: 760, height: 360 });
  const showPublisher = game.pc.difficulty !== 'hard';
  const entries = forDifficulty(STARTUP_ENTRIES, game.pc.difficulty);
  replace(win.body,
    h('p', { class: 'small text-body-secondary mb-2' }, 'Everything that starts automatically on this PC.'),
    h('table', { class: 'table table-sm small mb-0', 'data-testid': 'startup-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Where'), h('th', {}, 'Entry'), h('th', {}, 'Command'), showPublisher ? h('th', {}, 'Publisher') : null)),
      h('tbody', {}, entries.map((e, i) => h('tr', { 'data-testid': `startup-entry-${i}` },
        h('td', { class: 'text-nowrap' }, e.location), h('td', {}, e.name),
        h('td', { class: 'font-monospace text-break' }, e.command),
        showPublisher ? h('td', { class: e.publisher.startsWith('(') ? 'text-warning' : '' }, e.publisher) : null)))));
}

/* ---------- Hints, submission and feedback ---------- */

function currentHint(game) {
  if (game.submitted) return 'The investigation is over: read the results window to see what each process really was.';
  if (!game.opened.has('task-manager')) return 'Open Task Manager from the desktop, then inspect the processes one by one.';
  const disrupted = game.processes.find((p) => !p.malicious && game.isolated.has(p.pid));
  if (disrupted) return `Re-check ${disrupted.name} (PID ${disrupted.pid}): look at its signature and what it is doing. Busy is not the same as malicious.`;
  const missed = game.processes.find((p) => p.malicious && !game.isolated.has(p.pid) && game.inspected.has(p.pid));
  if (missed) return missed.hint;
  const left = game.processes.length - game.inspected.size;
  if (left > 0) return `${left} processes still to inspect. For each one compare its path, signature and parent with what a genuine program would have.`;
  const unseen = game.processes.find((p) => p.malicious && !game.isolated.has(p.pid));
  if (unseen) return unseen.hint;
  return 'Your choices look complete. Submit the incident report when you are ready.';
}

function submitInvestigation(game) {
  if (game.submitted || game.inspected.size < game.processes.length) return;
  game.submitted = true;
  const result = scoreInvestigation(game.processes, game.isolated, game.criticalAttempts, game.pc.level.max_score);
  // Leaving malware running or quarantining a legitimate program are wrong decisions too.
  for (let i = 0; i < result.missed.length + result.disrupted.length; i += 1) game.pc.recordMistake();
  refreshTaskManager(game);
  markVerdicts(game);
  showFeedback(game, result);
  game.pc.finish({ score: result.score, summary: summaryLines(game, result) });
}

function summaryLines(game, result) {
  const lines = [
    `Malware isolated: ${result.caught.length} of ${result.malwareCount} (+${result.malwareScore}).`,
    `Legitimate processes left running: ${result.spared.length} of ${result.legitimateCount} (−${result.wrongIsolationCost} for each one isolated).`,
  ];
  if (game.criticalAttempts) lines.push(`Attempts to stop a critical Windows process: ${game.criticalAttempts} (−${result.criticalAttemptCost} each).`);
  for (const p of result.missed) lines.push(`Missed: ${p.name} (PID ${p.pid}). ${p.explanation}`);
  for (const p of result.disrupted) lines.push(`Wrongly isolated: ${p.name} (PID ${p.pid}). ${p.explanation}`);
  return lines;
}

function verdictFor(game, p) {
  const isolated = game.isolated.has(p.pid);
  if (p.malicious) return isolated ? ['success', 'Malware — isolated'] : ['danger', 'Malware — missed'];
  if (isolated) return ['danger', 'Legitimate — wrongly isolated'];
  return ['success', p.critical ? 'Critical — left alone' : 'Legitimate — left running'];
}

function markVerdicts(game) {
  if (!game.view || !game.view.win.body.isConnected) return;
  for (const p of game.processes) {
    const [kind, text] = verdictFor(game, p);
    game.view.rows.get(p.pid).status.append(' ', h('span', { class: `badge text-bg-${kind}`, 'data-testid': `verdict-${p.pid}` }, text));
  }
}

/** Wrong decisions first, then the malware, then everything that was rightly left alone. */
function feedbackOrder(game) {
  const rank = (p) => {
    const wrong = p.malicious !== game.isolated.has(p.pid);
    if (wrong) return 0;
    return p.malicious ? 1 : 2;
  };
  return [...game.processes].sort((a, b) => rank(a) - rank(b));
}

function showFeedback(game, result) {
  const win = game.pc.openWindow({ id: 'results', title: 'Incident report — results', icon: 'bi-clipboard-check', width: 640, height: 460 });
  replace(win.body, h('div', { 'data-testid': 'level-feedback' },
    h('p', { class: 'fs-5 mb-2', 'data-testid': 'level-score' }, `Score: ${result.score} / ${game.pc.level.max_score}`),
    h('ul', { class: 'small' }, summaryLines(game, result).slice(0, 3).map((line) => h('li', {}, line))),
    h('h3', { class: 'h6' }, 'What each process really was'),
    h('ul', { class: 'list-unstyled small mb-0' }, feedbackOrder(game).map((p) => {
      const [kind, text] = verdictFor(game, p);
      return h('li', { class: 'mb-2', 'data-testid': `feedback-${p.pid}` },
        h('span', { class: `badge text-bg-${kind} me-1` }, text), h('strong', {}, `${p.name} (PID ${p.pid})`), ': ', p.explanation);
    }))));
}
