// Level 2 "Shadow in the Inbox": the player triages an office inbox, opening each email,
// inspecting its sender, headers, link targets and attachments, and files it as Phishing
// (report) or Legitimate (keep); on normal and hard they also name the red flag they spotted.
//
// Stable hooks for browser tests (keep them stable):
//   desktop icons (double-click): data-testid="icon-mail" (opens window-mail), icon-contacts
//     (Address book), icon-briefing
//   the inbox: easy and normal show EMAILS.slice(0, 8); hard shows all 10 (see emailsFor);
//     email-<n> (n = 1-based) is EMAILS[n - 1]; click it to open it in the reading pane
//   in the reading pane of the open email n:
//     triage-<n>-phishing, triage-<n>-legit   buttons (aria-pressed shows the choice)
//     flag-<n>              <select> on normal and hard only; values are FLAGS[].value; the correct
//                           value is EMAILS[n - 1].flag ('none' for legitimate mail; any value in
//                           EMAILS[n - 1].accepted also counts)
//     headers-toggle-<n> / headers-<n>; link-<n>-<k> (the k-th link, 1-based; hovering it shows the
//     real target in link-target); attachment-<n>-<k> (click: attachment-details-<n>-<k>)
//   submit-level          in the inbox toolbar; enabled once every email is triaged (and flagged)
//   after submitting:     level-score in the toolbar, feedback-<n> in the reading pane of email n
// Score: 3 points per correct triage, plus (normal/hard) 2 points per accepted red flag on an
// email that was also triaged correctly, scaled to max_score. Reporting legitimate mail is as
// wrong as keeping phishing. Each wrong triage or flag counts as one mistake, at submit.

import { h, icon, loadLevelStylesheet, replace } from '../dom.js';

const COMPANY_DOMAIN = 'larkspur-logistics.example';
const PLAYER = 'Sam Rivera <sam.rivera@larkspur-logistics.example>';
const BASE_INBOX_SIZE = 8;
const TRIAGE_POINTS = 3;
const FLAG_POINTS = 2;
const PASS = 'spf=pass; dkim=pass; dmarc=pass';

export const FLAGS = [
  { value: 'none', label: 'No red flag: legitimate' },
  { value: 'lookalike-domain', label: 'Lookalike sender domain' },
  { value: 'reply-to-mismatch', label: 'Replies go to a different address' },
  { value: 'payment-change', label: 'Urgent payment or bank-detail change' },
  { value: 'link-mismatch', label: 'Link goes somewhere other than it shows' },
  { value: 'dangerous-attachment', label: 'Dangerous attachment' },
  { value: 'mfa-fatigue', label: 'Asks you to approve sign-in prompts' },
];

// The Address book app: who the player's real contacts are, and the policies that apply.
export const CONTACTS = [
  { name: 'Priya Anand', role: 'Chief Executive', address: 'priya.anand@larkspur-logistics.example' },
  { name: 'Jordan Lee', role: 'Finance Manager', address: 'jordan.lee@larkspur-logistics.example', note: 'Payroll data only moves through the Finance file share, never by email.' },
  { name: 'IT Service Desk', role: 'Ext. 4400, floor 1', address: 'it-helpdesk@larkspur-logistics.example', note: 'IT never asks for your password, and never asks you to approve a sign-in you did not start.' },
  { name: 'Security alerts', role: 'Automatic sign-in notices from IT', address: 'security-alerts@larkspur-logistics.example' },
  { name: 'Human Resources', role: 'Ext. 4120, floor 2', address: 'hr@larkspur-logistics.example' },
  { name: 'Kestrel Marine Supplies', role: 'Supplier; phone on file: 555-0142', address: 'accounts@kestrel-marine.example', note: 'Policy FIN-7: confirm any bank-detail change by calling the number on file, never a number in the email.' },
  { name: 'Tallybook', role: 'The expense-claim service Larkspur uses', address: 'notifications@tallybook.example', note: 'Claims live at app.tallybook.example.' },
];

// Body paragraphs are lists of text and {text, href} links; a string is a plain paragraph.
export const EMAILS = [
  {
    id: 'it-maintenance', fromName: 'IT Service Desk', from: 'it-helpdesk@larkspur-logistics.example',
    date: 'Tue 14 Oct 2025, 08:05', subject: 'Planned maintenance: email offline Saturday 22:00–23:00',
    body: [
      'Hi all,',
      'We are upgrading the mail servers this Saturday between 22:00 and 23:00. Email will be unavailable for up to an hour. You do not need to do anything.',
      ['Progress updates will be posted on ', { text: 'status.larkspur-logistics.example', href: 'https://status.larkspur-logistics.example/maintenance/1014' }, '.'],
      'As always: IT will never ask for your password by email. IT Service Desk, ext. 4400',
    ],
    auth: PASS, verdict: 'legit', flag: 'none', accepted: ['none'],
    hint: 'Compare the sender with the Address book, and hover the link: does it go where it says?',
    explanation: 'Our own IT address, passing SPF, DKIM and DMARC; it asks you to do nothing, and its link goes exactly where it says.',
  },
  {
    id: 'mailbox-full', fromName: 'Mail Administrator', from: 'mailadmin@mailbox-services.example',
    date: 'Tue 14 Oct 2025, 08:17', subject: 'Your mailbox is 98% full: messages will be deleted',
    body: [
      'Dear user,',
      'Your mailbox has reached its storage limit and incoming messages are on hold. To avoid losing your email, verify your account within 24 hours:',
      [{ text: 'https://mail.larkspur-logistics.example/storage', href: 'http://larkspur-logistics.example.mail-storage-verify.test/login?u=sam.rivera' }],
      'Mailbox Administration Team',
    ],
    auth: 'spf=pass (mailbox-services.example); dkim=none; dmarc=none',
    verdict: 'phishing', flag: 'link-mismatch', accepted: ['link-mismatch'],
    hint: 'Hover over the link and read its real address in the status bar. Read the hostname from its right-hand end.',
    explanation: 'The link text shows our mail server, but the real target is larkspur-logistics.example.mail-storage-verify.test: a different domain that merely starts with our name (read hostnames from the right). It is a password-harvesting page.',
  },
  {
    id: 'kestrel-bank', fromName: 'Kestrel Marine Supplies: Accounts', from: 'accounts@kestrel-marine.example',
    replyTo: 'kestrel.accounts.dept@freemail.test', returnPath: 'bounce-7731@bulk-mailer.test',
    date: 'Tue 14 Oct 2025, 08:41', subject: 'URGENT: new bank details for invoice KM-4471',
    body: [
      'Dear Sam,',
      'Following an audit our bank account has changed. Please pay invoice KM-4471 ($18,450.00) to our new account today, as the old account closes at 5 pm.',
      'New account: Harbour Trust Bank, account 55019283, routing 021-TEST.',
      'Please reply to confirm once paid. Do not call our office: the lines are busy because of the audit.',
      'Linda Marsh, Accounts Receivable',
    ],
    auth: 'spf=fail (sender not authorised for kestrel-marine.example); dkim=none; dmarc=fail',
    verdict: 'phishing', flag: 'payment-change', accepted: ['payment-change', 'reply-to-mismatch'],
    hint: 'Open the headers: where would your reply go? And what does the Address book say about bank-detail changes?',
    explanation: 'A supplier changing bank details with a same-day deadline and "do not call us" is classic invoice fraud. Replies go to a freemail.test address and the message fails SPF and DMARC. Policy FIN-7: confirm by phone on the number on file.',
  },
  {
    id: 'tallybook-receipt', fromName: 'Tallybook', from: 'notifications@tallybook.example',
    date: 'Tue 14 Oct 2025, 09:02', subject: 'Action needed: receipt missing for expense claim EX-2291',
    body: [
      'Hi Sam,',
      'Your claim EX-2291 (Taxi, 9 Oct, $46.20) is missing a receipt. Upload it by Friday so your manager can approve the claim.',
      [{ text: 'Open claim EX-2291', href: 'https://app.tallybook.example/claims/EX-2291' }],
      'You receive this because Larkspur Logistics uses Tallybook for expenses.',
    ],
    auth: PASS, verdict: 'legit', flag: 'none', accepted: ['none'],
    hint: 'Is Tallybook a service Larkspur really uses? Check the Address book, then hover the link.',
    explanation: 'External and a little pushy, but Tallybook is the expense service Larkspur uses; the message passes authentication, names a real claim, and its link goes to app.tallybook.example. It asks for no password and no payment.',
  },
  {
    id: 'invoice-exe', fromName: 'Billing Dept', from: 'billing@northgate-freight.example',
    date: 'Tue 14 Oct 2025, 09:26', subject: 'Overdue invoice 88213: final reminder',
    body: [
      'Hello,',
      'Please see the attached invoice, which is now 30 days overdue. Open the attachment to view the PDF. If your computer asks for permission, click Allow.',
      'Accounts, Northgate Freight',
    ],
    attachments: [{ name: 'invoice_88213.pdf.exe', size: '412 KB', type: 'Windows application (.exe): a program, not a document' }],
    auth: 'spf=pass (northgate-freight.example); dkim=none; dmarc=none',
    verdict: 'phishing', flag: 'dangerous-attachment', accepted: ['dangerous-attachment'],
    hint: 'Look at the attachment\'s full name: what is the very last extension?',
    explanation: '"invoice_88213.pdf.exe" is a program dressed as a PDF: only the last extension counts. Larkspur has no supplier called Northgate Freight, and "click Allow" is how malware gets permission to run.',
  },
  {
    id: 'mfa-migration', fromName: 'Larkspur Security Team', from: 'security@larkspur-it-support.example',
    date: 'Tue 14 Oct 2025, 10:03', subject: 'Account migration tonight: approve the sign-in prompts',
    body: [
      'Hello,',
      'We are migrating all staff accounts to the new sign-in system tonight. Between 20:00 and 23:00 you will receive several approval requests in your authenticator app.',
      'Please tap Approve on each one, or your account will be locked tomorrow morning.',
      'No need to contact the help desk: they are very busy with the migration.',
    ],
    auth: 'spf=pass (larkspur-it-support.example); dkim=pass; dmarc=pass',
    verdict: 'phishing', flag: 'mfa-fatigue', accepted: ['mfa-fatigue', 'lookalike-domain'],
    hint: 'Would real IT ask you to approve prompts you did not start? Compare the sender\'s domain with ours too.',
    explanation: 'Only approve a sign-in prompt you started yourself. Attackers who already have a password flood you with prompts and hope for one tap. larkspur-it-support.example is not our domain, and "don\'t contact the help desk" is there to stop you checking.',
  },
  {
    id: 'hr-benefits', fromName: 'Human Resources', from: 'hr@larkspur-logistics.example',
    date: 'Tue 14 Oct 2025, 10:30', subject: 'Reminder: benefits enrolment closes Friday 17:00',
    body: [
      'Hi everyone,',
      'Enrolment for next year\'s health and pension benefits closes this Friday at 17:00. The attached guide explains the options.',
      ['Review your choices on the ', { text: 'benefits portal', href: 'https://benefits.larkspur-logistics.example/enrolment' }, ', using your usual company sign-in.'],
      'Questions? Visit us on floor 2 or call ext. 4120.',
    ],
    attachments: [{ name: 'Benefits-guide-2026.pdf', size: '1.2 MB', type: 'PDF document' }],
    auth: PASS, verdict: 'legit', flag: 'none', accepted: ['none'],
    hint: 'A deadline alone is not a red flag. Check the sender, where the link really goes and the attachment type.',
    explanation: 'A deadline is not a red flag on its own. It comes from our HR address, passes authentication, links to our own benefits site, attaches a real PDF, and offers a phone extension and an office to ask in person.',
  },
  {
    id: 'ceo-giftcards', fromName: 'Priya Anand', from: 'priya.anand@larkspur-logistlcs.example',
    date: 'Tue 14 Oct 2025, 11:12', subject: 'Quick favour: are you at your desk?',
    body: [
      'Sam,',
      'I\'m in back-to-back meetings and need a favour for a client. Can you buy 5 gift cards of $200 each and email me the codes within the hour?',
      'Keep this between us for now, it\'s a surprise. I\'ll sort out the expense claim later.',
      'Priya (sent from my phone)',
    ],
    auth: 'spf=pass (larkspur-logistlcs.example); dkim=pass; dmarc=pass',
    verdict: 'phishing', flag: 'lookalike-domain', accepted: ['lookalike-domain', 'payment-change'],
    hint: 'Compare the sender\'s address letter by letter with Priya\'s address in the Address book.',
    explanation: 'Look closely: larkspur-logistlcs.example has an "l" where the "i" should be. Gift cards, secrecy and a deadline are the marks of CEO fraud. Check with Priya by phone or in person before doing anything.',
  },
  {
    id: 'payroll-replyto', fromName: 'Jordan Lee', from: 'jordan.lee@larkspur-logistics.example',
    replyTo: 'jordan.lee.finance@freemail.test', returnPath: 'bounce-2208@bulk-mailer.test',
    date: 'Tue 14 Oct 2025, 11:48', subject: 'Payroll file for the audit',
    body: [
      'Hi Sam,',
      'The auditors need this month\'s payroll export (names, bank details and salaries) before noon. I\'m working from home and my mail is playing up, so just hit Reply and attach the spreadsheet.',
      'Thanks! Jordan, Finance',
    ],
    auth: 'spf=fail (sender not authorised for larkspur-logistics.example); dkim=none; dmarc=fail',
    verdict: 'phishing', flag: 'reply-to-mismatch', accepted: ['reply-to-mismatch'],
    hint: 'Open the headers: who would actually receive your reply? Did SPF and DMARC pass?',
    explanation: 'The From line shows a real colleague, but Reply would send staff bank details to jordan.lee.finance@freemail.test, and the failed SPF and DMARC checks show the From address was forged. Payroll data only moves through the Finance file share.',
  },
  {
    id: 'signin-alert', fromName: 'Larkspur Security', from: 'security-alerts@larkspur-logistics.example',
    date: 'Tue 14 Oct 2025, 08:53', subject: 'New sign-in to your Larkspur account',
    body: [
      'We noticed a new sign-in to your account: Tuesday 14 Oct, 08:52, Firefox on Windows, Eastport office network.',
      'If this was you, you don\'t need to do anything.',
      'If you don\'t recognise it, call the IT Service Desk on ext. 4400 or visit the IT desk on floor 1. We will never ask you for your password or to approve a request you did not start.',
    ],
    auth: PASS, verdict: 'legit', flag: 'none', accepted: ['none'],
    hint: 'Did you sign in at 08:52 this morning? Does this message ask you to click, reply or approve anything?',
    explanation: 'Scary-looking, but genuine: our own domain, passing authentication, describing your own 08:52 sign-in at the office. It has no link or attachment and tells you to call a known extension if something is wrong.',
  },
];

/** The emails in the inbox on this difficulty, in list order (email-<n> is the n-th). */
export function emailsFor(difficulty) {
  return difficulty === 'hard' ? EMAILS : EMAILS.slice(0, BASE_INBOX_SIZE);
}

/** Whether this difficulty asks for the red flag as well as the triage. */
export function asksForFlag(difficulty) {
  return difficulty !== 'easy';
}

/** Judge the player's decisions ([{triage, flag}] in inbox order) against the answers. */
export function scoreDecisions(emails, decisions, difficulty, maxScore) {
  const withFlag = asksForFlag(difficulty);
  const perEmail = TRIAGE_POINTS + (withFlag ? FLAG_POINTS : 0);
  let points = 0;
  const results = emails.map((email, index) => {
    const choice = decisions[index] || {};
    const triageRight = choice.triage === email.verdict;
    const flagRight = withFlag ? triageRight && email.accepted.includes(choice.flag) : null;
    points += (triageRight ? TRIAGE_POINTS : 0) + (flagRight ? FLAG_POINTS : 0);
    return { email, choice, triageRight, flagRight };
  });
  return { score: Math.round((maxScore * points) / (perEmail * emails.length)), results };
}

function domainOf(address) {
  return address.split('@')[1] || '';
}

function flagLabel(value) {
  const flag = FLAGS.find((f) => f.value === value);
  return flag ? flag.label : 'none chosen';
}

function headerText(email) {
  const domain = domainOf(email.from);
  const lines = [
    `Return-Path: <${email.returnPath || email.from}>`,
    `From: "${email.fromName}" <${email.from}>`,
    email.replyTo && `Reply-To: <${email.replyTo}>`,
    `To: ${PLAYER}`,
    `Date: ${email.date}`,
    `Subject: ${email.subject}`,
    `Message-ID: <${email.id}.20251014@${domain}>`,
    `Authentication-Results: mx.${COMPANY_DOMAIN}; ${email.auth}`,
  ];
  return lines.filter(Boolean).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Windows

function openBriefing(pc, game) {
  const win = pc.openWindow({ id: 'briefing', title: 'Briefing', icon: 'bi-info-circle', width: 470, height: 400 });
  replace(win.body,
    h('div', { 'data-testid': 'briefing' },
      h('h2', { class: 'h6' }, icon('bi-envelope-exclamation'), ' Tuesday 14 October, Larkspur Logistics'),
      h('p', {}, `You are Sam Rivera, accounts assistant. You signed in at the Eastport office at 08:52, and ${game.emails.length} emails are waiting. Some are attacks.`),
      h('p', {}, 'Open each email, check the sender\'s address, the headers (Show headers), where links really go (hover them) and the attachments. Then ',
        h('strong', {}, 'Report phishing'), ' or ', h('strong', {}, 'Keep'), ' it',
        asksForFlag(pc.difficulty) ? ', and name the red flag you spotted.' : '.'),
      h('p', {}, 'Reporting genuine mail costs as much as keeping an attack. The ', h('strong', {}, 'Address book'), ' lists your real contacts and company policies.'),
      h('button', { class: 'btn btn-primary btn-sm', type: 'button', 'data-testid': 'briefing-open-mail', onclick: () => openInbox(pc, game) },
        icon('bi-envelope'), ' Open the inbox')));
}

function openContacts(pc) {
  const win = pc.openWindow({ id: 'contacts', title: 'Address book', icon: 'bi-person-rolodex', width: 460, height: 440 });
  replace(win.body,
    h('p', { class: 'small text-body-secondary mb-2' }, `Our only email domain is ${COMPANY_DOMAIN}.`),
    h('div', { class: 'list-group', 'data-testid': 'contacts' }, CONTACTS.map((c) => h('div', { class: 'list-group-item p-2 small' },
      h('div', { class: 'fw-bold' }, c.name, h('span', { class: 'fw-normal text-body-secondary' }, ` · ${c.role}`)),
      h('code', {}, c.address),
      c.note && h('div', { class: 'text-info-emphasis' }, icon('bi-shield-check'), ' ', c.note)))));
}

function openInbox(pc, game) {
  const win = pc.openWindow({ id: 'mail', title: 'Mail: Inbox', icon: 'bi-envelope', width: 920, height: 560 });
  if (win.body.firstChild) return;
  win.body.classList.add('p-0');
  game.score = h('span', { class: 'l2-score', 'data-testid': 'level-score', hidden: true });
  game.progress = h('span', { class: 'small text-body-secondary', 'data-testid': 'triaged-count' });
  game.submit = h('button', { class: 'btn btn-success btn-sm', type: 'button', 'data-testid': 'submit-level', disabled: true, onclick: () => submit(pc, game) },
    icon('bi-send-check'), ' Submit triage');
  game.list = h('div', { class: 'l2-list', role: 'list', 'data-testid': 'inbox-list' });
  game.pane = h('div', { class: 'l2-pane', 'data-testid': 'reading-pane' });
  replace(win.body, h('div', { class: 'l2-mail' },
    h('div', { class: 'l2-toolbar' }, icon('bi-inbox'), h('strong', {}, ' Inbox'), h('span', { class: 'small text-body-secondary' }, 'sam.rivera@larkspur-logistics.example'),
      h('span', { class: 'ms-auto' }), game.score, game.progress, game.submit),
    h('div', { class: 'l2-columns' }, game.list, game.pane)));
  renderList(pc, game);
  if (game.openIndex !== null) renderPane(pc, game, game.openIndex);
  else replace(game.pane, h('p', { class: 'text-body-secondary p-3' }, icon('bi-envelope-open'), ' Select an email to read it.'));
  refreshProgress(pc, game);
}

function renderList(pc, game) {
  replace(game.list, game.emails.map((email, i) => listItem(pc, game, email, i)));
}

function listItem(pc, game, email, index) {
  const n = index + 1;
  const choice = game.decisions[index];
  const result = game.outcome && game.outcome.results[index];
  const badge = choice.triage && h('span', { class: `badge ${choice.triage === 'phishing' ? 'text-bg-danger' : 'text-bg-success'}` },
    choice.triage === 'phishing' ? 'Reported' : 'Kept');
  const mark = result && icon(result.triageRight && result.flagRight !== false ? 'bi-check-circle-fill text-success' : 'bi-x-circle-fill text-danger');
  const classes = ['l2-item', game.openIndex === index && 'active', !game.seen.has(index) && 'unread'].filter(Boolean).join(' ');
  return h('button', { class: classes, type: 'button', role: 'listitem', 'data-testid': `email-${n}`, onclick: () => openEmail(pc, game, index) },
    h('div', { class: 'd-flex gap-1 align-items-center' }, h('span', { class: 'l2-from' }, email.fromName), h('span', { class: 'ms-auto small text-body-secondary' }, email.date.slice(-5))),
    h('div', { class: 'l2-subject' }, email.subject),
    h('div', { class: 'd-flex gap-1' }, badge, mark));
}

function openEmail(pc, game, index) {
  game.openIndex = index;
  game.seen.add(index);
  renderList(pc, game);
  renderPane(pc, game, index);
}

// ---------------------------------------------------------------------------------------------
// The reading pane

function renderPane(pc, game, index) {
  const email = game.emails[index];
  const n = index + 1;
  const status = h('div', { class: 'l2-status', 'data-testid': 'link-target' }, 'Hover over a link to see where it really goes.');
  const links = { n, count: 0, status };
  replace(game.pane,
    h('div', { class: 'l2-message', 'data-testid': `message-${n}` },
      h('h3', { class: 'l2-title' }, email.subject),
      feedbackBox(game, index),
      senderBlock(pc, email, n),
      cueBanner(pc, email),
      headersBlock(email, n),
      h('div', { class: 'l2-body' }, email.body.map((p) => paragraph(pc, p, links))),
      email.attachments && attachmentsBlock(pc, email, n),
      decisionRow(pc, game, index)),
    status);
}

function senderBlock(pc, email, n) {
  const address = h('span', { class: 'l2-address', 'data-testid': `sender-address-${n}` }, `<${email.from}>`);
  // Hard hides the address behind the display name, as many mail apps do.
  const reveal = pc.difficulty === 'hard' && h('button', { class: 'btn btn-link btn-sm p-0 ms-1', type: 'button', 'data-testid': `sender-details-${n}`,
    onclick: (event) => { address.hidden = false; event.currentTarget.remove(); } }, 'show address');
  if (reveal) address.hidden = true;
  return h('div', { class: 'l2-meta' },
    h('div', {}, h('span', { class: 'text-body-secondary' }, 'From: '), h('strong', { 'data-testid': `sender-${n}` }, email.fromName), ' ', address, reveal),
    h('div', {}, h('span', { class: 'text-body-secondary' }, 'To: '), PLAYER),
    h('div', {}, h('span', { class: 'text-body-secondary' }, 'Date: '), email.date));
}

function cueBanner(pc, email) {
  if (pc.difficulty === 'hard') return null;
  const cues = [];
  if (domainOf(email.from) !== COMPANY_DOMAIN) cues.push('External sender: this message came from outside Larkspur Logistics.');
  if (pc.difficulty === 'easy' && email.replyTo) cues.push(`Replies to this message go to ${email.replyTo}.`);
  if (!cues.length) return null;
  return h('div', { class: 'alert alert-warning py-1 px-2 small mb-2', 'data-testid': 'external-banner' },
    cues.map((c) => h('div', {}, icon('bi-exclamation-triangle'), ' ', c)));
}

function headersBlock(email, n) {
  const pre = h('pre', { class: 'l2-headers', 'data-testid': `headers-${n}`, hidden: true }, headerText(email));
  const toggle = h('button', { class: 'btn btn-outline-secondary btn-sm', type: 'button', 'data-testid': `headers-toggle-${n}`,
    onclick: () => { pre.hidden = !pre.hidden; toggle.lastChild.textContent = pre.hidden ? ' Show headers' : ' Hide headers'; } },
  icon('bi-code-slash'), ' Show headers');
  return h('div', { class: 'mb-2' }, toggle, pre);
}

function paragraph(pc, content, links) {
  const parts = typeof content === 'string' ? [content] : content;
  return h('p', {}, parts.map((part) => {
    if (typeof part === 'string') return part;
    links.count += 1;
    return linkButton(pc, part, `${links.n}-${links.count}`, links.status);
  }));
}

function linkButton(pc, link, key, status) {
  const show = () => replace(status, icon('bi-link-45deg'), ` ${link.href}`);
  const button = h('button', {
    class: 'btn btn-link p-0 align-baseline l2-link', type: 'button', title: link.href, 'data-testid': `link-${key}`,
    onmouseenter: show, onfocus: show,
    onclick: () => { show(); pc.notify(`Links don't open in this training inbox. This one leads to ${link.href}`, 'secondary'); },
  }, link.text);
  // Easy shows the real destination right next to the link text.
  return pc.difficulty === 'easy' ? [button, h('span', { class: 'l2-link-target small' }, ` (goes to ${link.href})`)] : button;
}

function attachmentsBlock(pc, email, n) {
  return h('div', { class: 'l2-attachments' }, email.attachments.map((file, i) => {
    const k = i + 1;
    const details = h('div', { class: 'small text-body-secondary', 'data-testid': `attachment-details-${n}-${k}`, hidden: pc.difficulty !== 'easy' },
      `${file.type} · ${file.size}`);
    return h('div', { class: 'l2-attachment' },
      h('button', { class: 'btn btn-sm btn-outline-light', type: 'button', 'data-testid': `attachment-${n}-${k}`,
        onclick: () => { details.hidden = false; } }, icon('bi-paperclip'), ` ${file.name}`),
      details);
  }));
}

function decisionRow(pc, game, index) {
  const n = index + 1;
  const buttons = [
    h('button', { class: 'btn btn-sm btn-outline-danger', type: 'button', 'data-testid': `triage-${n}-phishing`, onclick: () => chooseTriage(pc, game, index, 'phishing') },
      icon('bi-flag-fill'), ' Report phishing'),
    h('button', { class: 'btn btn-sm btn-outline-success', type: 'button', 'data-testid': `triage-${n}-legit`, onclick: () => chooseTriage(pc, game, index, 'legit') },
      icon('bi-inbox-fill'), ' Legitimate: keep'),
  ];
  const flag = asksForFlag(pc.difficulty) && h('select', {
    class: 'form-select form-select-sm l2-flag', 'data-testid': `flag-${n}`, 'aria-label': `Red flag in email ${n}`,
    onchange: (event) => chooseFlag(pc, game, index, event.target.value),
  }, h('option', { value: '' }, 'Red flag spotted…'), FLAGS.map((f) => h('option', { value: f.value }, f.label)));
  game.controls = { index, buttons, flag };
  syncControls(pc, game);
  return h('div', { class: 'l2-decision' }, h('span', { class: 'small' }, 'Your decision:'), buttons, flag);
}

function feedbackBox(game, index) {
  if (!game.outcome) return null;
  const r = game.outcome.results[index];
  const right = r.triageRight && r.flagRight !== false;
  return h('div', { class: `l2-feedback ${right ? 'l2-right' : 'l2-wrong'}`, 'data-testid': `feedback-${index + 1}` },
    h('strong', {}, icon(right ? 'bi-check-circle-fill' : 'bi-x-circle-fill'), right ? ' Correct. ' : ' Not quite. '),
    `Answer: ${r.email.verdict === 'phishing' ? 'Phishing' : 'Legitimate'} (${flagLabel(r.email.flag)}). `, r.email.explanation);
}

// ---------------------------------------------------------------------------------------------
// Decisions

function chooseTriage(pc, game, index, triage) {
  if (pc.isFinished) return;
  const choice = game.decisions[index];
  choice.triage = triage;
  if (asksForFlag(pc.difficulty)) {
    // Saves a step: genuine mail has no red flag; a stale "none" would contradict a report.
    if (triage === 'legit' && !choice.flag) choice.flag = 'none';
    if (triage === 'phishing' && choice.flag === 'none') choice.flag = '';
  }
  syncControls(pc, game);
  renderList(pc, game);
  refreshProgress(pc, game);
}

function chooseFlag(pc, game, index, value) {
  if (pc.isFinished) return;
  game.decisions[index].flag = value;
  refreshProgress(pc, game);
}

/** Show the open email's current choice on its buttons and flag list. */
function syncControls(pc, game) {
  const { index, buttons, flag } = game.controls;
  const { triage, flag: chosenFlag } = game.decisions[index];
  for (const button of buttons) {
    const pressed = Boolean(triage) && button.dataset.testid.endsWith(triage);
    button.setAttribute('aria-pressed', String(pressed));
    button.classList.toggle('active', pressed);
    button.disabled = pc.isFinished;
  }
  if (flag) {
    flag.value = chosenFlag;
    flag.disabled = pc.isFinished;
  }
}

function isDecided(pc, choice) {
  return Boolean(choice.triage) && (!asksForFlag(pc.difficulty) || Boolean(choice.flag));
}

function refreshProgress(pc, game) {
  if (!game.submit) return;
  const decided = game.decisions.filter((c) => isDecided(pc, c)).length;
  game.progress.textContent = `${decided} of ${game.emails.length} triaged`;
  game.submit.disabled = pc.isFinished || decided < game.emails.length;
}

function submit(pc, game) {
  if (pc.isFinished || game.decisions.some((c) => !isDecided(pc, c))) return;
  game.outcome = scoreDecisions(game.emails, game.decisions, pc.difficulty, pc.level.max_score);
  for (const r of game.outcome.results) {
    if (!r.triageRight || r.flagRight === false) pc.recordMistake();
  }
  const summary = summaryLines(pc, game.outcome.results);
  pc.finish({ score: game.outcome.score, summary });
  showOutcome(pc, game);
}

function showOutcome(pc, game) {
  game.score.hidden = false;
  replace(game.score, icon('bi-clipboard-check'), ` Score: ${game.outcome.score} / ${pc.level.max_score}`);
  game.submit.disabled = true;
  renderList(pc, game);
  openEmail(pc, game, game.openIndex ?? 0);
}

function summaryLines(pc, results) {
  const phishing = results.filter((r) => r.email.verdict === 'phishing');
  const legit = results.filter((r) => r.email.verdict === 'legit');
  const lines = [
    `Phishing reported: ${phishing.filter((r) => r.triageRight).length} of ${phishing.length}.`,
    `Genuine mail kept: ${legit.filter((r) => r.triageRight).length} of ${legit.length}.`,
  ];
  if (asksForFlag(pc.difficulty)) lines.push(`Red flags named correctly: ${results.filter((r) => r.flagRight).length} of ${results.length}.`);
  for (const [i, r] of results.entries()) {
    if (!r.triageRight || r.flagRight === false) lines.push(`Email ${i + 1} ("${r.email.subject}"): ${r.email.verdict === 'phishing' ? 'phishing' : 'legitimate'}, ${flagLabel(r.email.flag).toLowerCase()}.`);
  }
  lines.push('Open each email in the inbox to read why.');
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Hints

function currentHint(pc, game) {
  if (!game.submit) return 'Double-click "Mail" on the desktop to open the inbox.';
  const open = game.openIndex;
  const index = open !== null && !isDecided(pc, game.decisions[open]) ? open : game.decisions.findIndex((c) => !isDecided(pc, c));
  if (index === -1) return 'Every email is triaged. Review your choices, then press "Submit triage" in the inbox toolbar.';
  const email = game.emails[index];
  const prefix = `Email ${index + 1} ("${email.subject}"): `;
  if (game.decisions[index].triage) return `${prefix}you decided; now pick the red flag you spotted (or "No red flag" for genuine mail).`;
  return prefix + email.hint;
}

/** Start the level on the simulated PC. */
export function start(pc) {
  loadLevelStylesheet(2);
  const emails = emailsFor(pc.difficulty);
  const game = {
    emails,
    decisions: emails.map(() => ({ triage: '', flag: '' })),
    seen: new Set(),
    openIndex: null,
    controls: null,
    submit: null,
    outcome: null,
  };
  pc.addIcon({ id: 'mail', label: 'Mail', icon: 'bi-envelope', open: () => openInbox(pc, game) });
  pc.addIcon({ id: 'contacts', label: 'Address book', icon: 'bi-person-rolodex', open: () => openContacts(pc) });
  pc.addIcon({ id: 'briefing', label: 'Briefing', icon: 'bi-info-circle', open: () => openBriefing(pc, game) });
  pc.setHintProvider(() => currentHint(pc, game));
  openBriefing(pc, game);
}
