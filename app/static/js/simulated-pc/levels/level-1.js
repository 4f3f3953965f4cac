// Level 1 "The Misinformation Maze": the player reads a news feed about one unfolding local
// story, checks outlets, domains, photos and quoted sources with the tools on the desktop, and
// judges each article Credible or Misleading (plus the main reason on normal and hard).
//
// Stable hooks for browser tests (keep them stable; the lead's test plays this level):
//   desktop icons (double-click): data-testid="icon-browser" (News Browser, opens window-browser),
//     icon-source-lookup, icon-whois, icon-fact-check, icon-briefing
//   the feed: easy and normal show ARTICLES.slice(0, 6); hard shows all 8 (see articlesFor);
//     article-<n> (n = 1-based) is ARTICLES[n - 1]
//   verdict-<n>-credible, verdict-<n>-misleading   buttons (aria-pressed shows the choice)
//   reason-<n>            <select> on normal and hard only; values are REASONS[].value; the correct
//                         value for article n is ARTICLES[n - 1].reason ('credible' for credible ones)
//   submit-level          enabled once every article has a verdict (and a reason on normal/hard)
//   after submitting:     level-score ("Score: S / M", M the level's max_score), feedback-<n> under each article
// Score: 3 points per correct verdict, plus (normal/hard) 2 points per correct reason on an
// article whose verdict is also correct, scaled to max_score. Each wrong verdict or reason counts
// as one mistake, recorded when the player submits (choices can be changed until then).

import { h, icon, loadLevelStylesheet, replace } from '../dom.js';

const STORY_URL = 'https://newsfeed.example/topics/lake-verrow';
const BASE_FEED_SIZE = 6;
const VERDICT_POINTS = 3;
const REASON_POINTS = 2;

export const REASONS = [
  { value: 'credible', label: 'Checks out: credible' },
  { value: 'fabricated-source', label: 'Fabricated source or quote' },
  { value: 'misleading-headline', label: 'Headline not supported by the story' },
  { value: 'out-of-context-image', label: 'Photo out of context' },
  { value: 'satire', label: 'Satire mistaken for news' },
  { value: 'impostor-outlet', label: 'Impostor site posing as a real outlet' },
];

// What the Source lookup app knows, keyed by domain. `summary` is shown on easy only.
export const OUTLETS = {
  'brackton-ledger.example': {
    name: 'The Brackton Ledger', type: 'Local daily newspaper (print and online)', founded: '1908',
    owner: 'Ledger Media Co-operative (owned by its readers)',
    corrections: 'Public corrections page, updated daily',
    staff: 'Staff page lists every reporter, e.g. Maya Fernandes (water & environment)',
    summary: 'Established outlet with named staff and a corrections policy.',
  },
  'dailytruthpost.example': {
    name: 'The Daily Truth Post', type: 'Website, no print edition', founded: '2023',
    owner: 'Not disclosed', corrections: 'None found',
    staff: 'No staff page; articles are signed "Staff Writer"',
    notes: 'Earns money from affiliate links to health products',
    summary: 'Anonymous owners, no corrections, and it sells products next to its stories.',
  },
  'nowfeed.example': {
    name: 'NowFeed', type: 'Social sharing platform: posts by users, not journalists', founded: '2019',
    owner: 'NowFeed Inc.', corrections: 'None: posts are not reviewed before publishing',
    staff: 'Posts are signed by user handles',
    summary: 'Anyone can post here; a post is only as reliable as its evidence.',
  },
  'healthdigestweekly.example': {
    name: 'Health Digest Weekly', type: 'Online health magazine', founded: '2011',
    owner: 'Meridian Publishing Group', corrections: 'Corrections noted at the foot of articles',
    staff: 'Named writers with bios',
    notes: 'Headlines are written by an "audience growth" team to win clicks',
    summary: 'A real publication, but its headlines often overstate the story.',
  },
  'bracktonbugle.example': {
    name: 'The Brackton Bugle', type: 'Satire and humour', founded: '2015',
    owner: 'Two local comedians',
    corrections: 'About page: "Brackton\'s least reliable news. Everything here is made up, except the typos."',
    staff: 'Pen names only',
    summary: 'Self-declared satire site.',
  },
  'verrowwatch.example.org': {
    name: 'Verrow Watch', type: 'Volunteer community blog', founded: '2009',
    owner: 'Lake Verrow Watershed Association (registered charity)',
    corrections: 'Corrections are added to posts with a timestamp',
    staff: 'Volunteers named with their background',
    notes: 'Publishes its raw lake-monitoring data',
    summary: 'Small and informal, but open about its data and its mistakes.',
  },
  'nspm.example.org': {
    name: 'Northshore Public Media', type: 'Regional public broadcaster', founded: '1972',
    owner: 'Non-profit, funded by listeners and a public grant',
    corrections: 'Public corrections page and an independent ombudsman',
    staff: 'Named journalists with bios, e.g. Tomas Reyes (Brackton correspondent)',
    summary: 'Established broadcaster with strong editorial standards.',
  },
  'bwa.brackton.example': {
    name: 'Brackton Water Authority', type: 'Public water utility (official source)', founded: '1951',
    owner: 'City of Brackton', corrections: 'Advisories are updated in place with a timestamp',
    staff: 'Press page: Dana Okafor (communications lead), Samuel Ortiz (director)',
    summary: 'The official source for water advisories in Brackton.',
  },
};

// What the Whois app returns, keyed by registered domain.
export const WHOIS = {
  'brackton-ledger.example': { created: '1997-03-14', registrar: 'Example Registrar Inc.', registrant: 'Ledger Media Co-operative, Brackton' },
  'dailytruthpost.example': { created: '2023-01-09', registrar: 'QuickNames Ltd', registrant: 'REDACTED FOR PRIVACY (proxy service)' },
  'nowfeed.example': { created: '2018-11-02', registrar: 'Example Registrar Inc.', registrant: 'NowFeed Inc.' },
  'healthdigestweekly.example': { created: '2011-04-20', registrar: 'Example Registrar Inc.', registrant: 'Meridian Publishing Group' },
  'bracktonbugle.example': { created: '2015-04-01', registrar: 'QuickNames Ltd', registrant: 'Bugle Comedy Partnership' },
  'verrowwatch.example.org': { created: '2009-05-18', registrar: 'Example Registrar Inc.', registrant: 'Lake Verrow Watershed Association' },
  'nspm.example.org': { created: '1998-09-30', registrar: 'Example Registrar Inc.', registrant: 'Northshore Public Media' },
  'brackton-ledger-news.example': { created: '2025-06-08 (four days before this story)', registrar: 'QuickNames Ltd', registrant: 'REDACTED FOR PRIVACY (proxy service)' },
  'bwa-cleanup.example': { created: '2025-06-09 (three days before this story)', registrar: 'QuickNames Ltd', registrant: 'REDACTED FOR PRIVACY (proxy service)' },
  'brackton.example': { created: '1995-07-02', registrar: 'Example Registrar Inc.', registrant: 'City of Brackton' },
};

// The feed, in display order. The first BASE_FEED_SIZE are played on easy and normal.
export const ARTICLES = [
  {
    id: 'ledger-advisory', outlet: 'The Brackton Ledger', domain: 'brackton-ledger.example',
    author: 'Maya Fernandes, water & environment reporter', date: 'Thu 12 June 2025, 07:30',
    headline: 'Do-not-drink advisory for eastern Brackton after algae bloom in Lake Verrow',
    body: [
      'The Brackton Water Authority (BWA) told residents of Millgate, Eastbank and Harrow Hill on Wednesday evening not to drink tap water, after routine tests at the east intake found microcystin, a toxin made by some blue-green algae, above the drinking-water guideline. Boiling does not remove the toxin.',
      '"The levels are above the guideline but well below those linked to serious illness," said BWA spokesperson Dana Okafor. Western districts, supplied from the Copper Creek reservoir, are not affected.',
      'Results of a second round of tests are expected this afternoon. Brackton General Hospital said three people had been seen with mild stomach upsets this week; none was admitted.',
    ],
    cites: ['BWA spokesperson Dana Okafor (named, on record)', 'Link: bwa.brackton.example/advisories/2025-17', 'Brackton General Hospital press office'],
    photo: { icon: 'bi-droplet-half', tone: 'teal', caption: 'BWA staff take water samples at the east intake on Wednesday. (Photo: Brackton Water Authority)' },
    verdict: 'credible', reason: 'credible', tools: ['Source lookup', 'Fact-check notebook'],
    hint: 'Check who is quoted and whether the claims can be traced to the water authority itself (Fact-check notebook, Source lookup).',
    explanation: 'Named, on-record sources, a link to the authority\'s own advisory, a photo credited to the authority and traced to this week, and an outlet with a corrections policy. The claims are modest and match the other evidence.',
  },
  {
    id: 'truthpost-coverup', outlet: 'The Daily Truth Post', domain: 'dailytruthpost.example',
    author: 'Staff Writer', date: 'Thu 12 June 2025, 09:05',
    headline: 'COVER-UP: 40 rushed to hospital as Lake Verrow toxin spreads, top doctor reveals',
    body: [
      'A senior doctor has broken ranks to reveal that at least 40 Brackton residents have been hospitalised with "severe liver poisoning" since Monday, a figure city officials are desperate to keep quiet.',
      '"We have never seen anything like it. The wards are full," said Dr. Martin Kessler, chief toxicologist at Brackton General Hospital. "Officials knew about the toxin for weeks."',
      'Protect your family now: our partners at PureSpring offer a "Verrow Emergency" filter kit at 30% off for the next 24 hours.',
    ],
    cites: ['"Dr. Martin Kessler, chief toxicologist, Brackton General Hospital"', '"Hospital insiders" (unnamed)', 'No links'],
    verdict: 'misleading', reason: 'fabricated-source', tools: ['Fact-check notebook', 'Source lookup'],
    hint: 'A dramatic quote is only as good as the person behind it: look up the quoted doctor in the Fact-check notebook.',
    explanation: 'Brackton General has no Martin Kessler and no toxicology department; its press office reports three mild cases, none admitted. The quote is invented, the owners are hidden, and the story ends by selling filters, a common motive for scare stories.',
  },
  {
    id: 'nowfeed-fish', outlet: 'NowFeed', domain: 'nowfeed.example',
    author: '@verrow_local_eyes', date: 'Thu 12 June 2025, 10:20',
    headline: 'SHOCKING PHOTO: thousands of dead fish wash up on Lake Verrow this morning',
    body: [
      'This is what they\'re not showing you on the news. Lake Verrow shoreline at 6am today. The algae is killing everything.',
      'Share before it gets deleted!! (shared 14,200 times)',
    ],
    cites: ['One photo, photographer not named', 'No other sources'],
    photo: { icon: 'bi-water', tone: 'grey', caption: 'Dead fish cover the shore of Lake Verrow, 12 June.' },
    verdict: 'misleading', reason: 'out-of-context-image', tools: ['Fact-check notebook'],
    hint: 'Where did that photo first appear? Run it through the reverse image search in the Fact-check notebook.',
    explanation: 'The same photo appears in a 2017 report on a heatwave fish kill at Lake Sorrel, 300 km away, and volunteers counted no unusual fish deaths on Lake Verrow this week. A real picture used for the wrong event is still misinformation.',
  },
  {
    id: 'digest-study', outlet: 'Health Digest Weekly', domain: 'healthdigestweekly.example',
    author: 'Aaron Whitlock', date: 'Thu 12 June 2025, 11:45',
    headline: 'Study proves Brackton tap water causes liver damage',
    body: [
      'A new study has linked microcystin, the toxin found in Brackton\'s eastern water supply this week, to liver damage.',
      'Researchers at Northfield University gave laboratory mice microcystin for 90 days. Mice given the highest dose showed signs of liver inflammation.',
      'The doses were about 200 times higher than the levels measured at Brackton\'s east intake. Lead author Dr. Lena Chen said the results "do not mean that short-term exposure at advisory levels harms people", and that following the advisory is the sensible precaution.',
    ],
    cites: ['Chen et al. (2025), Journal of Freshwater Toxicology: a study in mice', 'Lead author Dr. Lena Chen (quoted)'],
    verdict: 'misleading', reason: 'misleading-headline', tools: ['Fact-check notebook'],
    hint: 'Read the whole article, not just the title: does the body say the same thing as the headline?',
    explanation: 'The study is real, but it was done on mice at about 200 times the levels measured in Brackton and is not about Brackton\'s water. The article\'s own body says so; the headline claims the opposite. Read past the headline.',
  },
  {
    id: 'bugle-smoothie', outlet: 'The Brackton Bugle', domain: 'bracktonbugle.example',
    author: 'Chuck Waterston', date: 'Thu 12 June 2025, 12:10',
    headline: 'Mayor unveils plan to sell lake water as "artisanal green smoothie"',
    body: [
      'Facing a do-not-drink advisory in the eastern districts, Mayor Ruth Adeyemi announced that the city will bottle Lake Verrow water and sell it at farmers\' markets as a "locally sourced superfood".',
      '"It\'s full of plant-based protein," the mayor reportedly said, holding a glass of bright green liquid. "Kale wishes it were this green."',
      'The council is also expected to rename the advisory a "hydration pause".',
    ],
    cites: ['"The mayor reportedly said" (no recording or statement)'],
    verdict: 'misleading', reason: 'satire', tools: ['Source lookup'],
    hint: 'Some articles are meant as jokes. Look the outlet up in Source lookup: what does it say about itself?',
    explanation: 'The Bugle\'s About page says "Everything here is made up": it is satire. Fine as comedy, but shared without that context it fools people; the mayor said nothing of the kind.',
  },
  {
    id: 'verrowwatch-data', outlet: 'Verrow Watch', domain: 'verrowwatch.example.org',
    author: 'Dr. Helen Moss, retired chemist and volunteer', date: 'Thu 12 June 2025, 13:30',
    headline: 'Our test numbers from this week, explained (and what they can\'t tell you)',
    body: [
      'Our volunteers sample six shoreline points every week. This week the east-bay samples showed a bloom; the west bay and the Copper Creek inflow did not.',
      'Our kits measure chlorophyll, not the toxin itself, so they cannot tell you whether tap water is safe: only the Water Authority\'s lab tests can. Our raw data and the authority\'s advisory are linked below.',
      'Correction (12 June, 14:05): an earlier version of this post said six samples showed a bloom; it was four.',
    ],
    cites: ['Raw data: verrowwatch.example.org/data/2025-06 (spreadsheet)', 'Link: bwa.brackton.example/advisories/2025-17', 'Volunteer photo, taken 11 June'],
    photo: { icon: 'bi-tree', tone: 'green', caption: 'Green water at the east-bay boat ramp, 11 June. (Photo: Verrow Watch volunteer J. Park)' },
    verdict: 'credible', reason: 'credible', tools: ['Source lookup', 'Whois', 'Fact-check notebook'],
    hint: 'Don\'t judge by looks alone: does this post show its data, admit what it doesn\'t know and correct its errors?',
    explanation: 'An informal volunteer blog, but it shows its data, states the limits of its own tests, links to the authority and publishes a visible correction. Its photo appears only on this site, from this week. Homemade is not the same as unreliable.',
  },
  {
    id: 'fake-ledger-fee', outlet: 'The Brackton Ledger', domain: 'brackton-ledger-news.example',
    author: 'Maya Fernandes', date: 'Thu 12 June 2025, 15:00',
    headline: 'Water Authority to charge every household a $300 "toxin clean-up fee": pay by Friday to avoid disconnection',
    body: [
      'Households in all districts will be billed a one-off $300 clean-up fee, the Brackton Water Authority confirmed today.',
      'Residents who pay online before Friday get a 10% discount. Use the secure payment page at pay.bwa-cleanup.example to avoid your supply being cut off.',
    ],
    cites: ['"The Brackton Water Authority confirmed" (no statement, no link to bwa.brackton.example)', 'Payment link: pay.bwa-cleanup.example'],
    verdict: 'misleading', reason: 'impostor-outlet', tools: ['Whois', 'Source lookup', 'Fact-check notebook'],
    hint: 'Compare this article\'s domain with the Ledger\'s domain in the first article, then check when it was registered in Whois.',
    explanation: 'It copies the Ledger\'s name and a real reporter\'s byline, but the domain is brackton-ledger-news.example, registered four days ago behind a privacy proxy; the real Ledger is brackton-ledger.example. The BWA has warned that there is no clean-up fee. A payment link with a deadline is a classic scam sign.',
  },
  {
    id: 'nspm-extended', outlet: 'Northshore Public Media', domain: 'nspm.example.org',
    author: 'Tomas Reyes, Brackton correspondent', date: 'Thu 12 June 2025, 16:20',
    headline: 'Second test fails: eastern Brackton\'s do-not-drink advisory extended into next week',
    body: [
      'Tap water in Brackton\'s eastern districts is still unsafe to drink, the Water Authority said on Thursday afternoon, after a second round of tests again found microcystin above the guideline.',
      'The advisory now runs until at least Tuesday. Bottled water is available at Millgate Library and Eastbank Community Centre from 8 am to 8 pm.',
      '"We know this is frustrating," said BWA director Samuel Ortiz. "We are adding a carbon treatment stage and testing every six hours."',
    ],
    cites: ['BWA director Samuel Ortiz (named, on record)', 'Link: bwa.brackton.example/advisories/2025-17 (updated 15:50)', 'State Environmental Laboratory results, 12 June'],
    verdict: 'credible', reason: 'credible', tools: ['Source lookup', 'Fact-check notebook'],
    hint: 'A scary headline can still be true. Does the authority\'s own advisory back it up?',
    explanation: 'Alarming but accurate: it matches the authority\'s updated advisory, quotes a named official on record and comes from an established public broadcaster with a corrections policy. Bad news is not the same as fake news.',
  },
];

// The Fact-check notebook: reverse image searches and checks of people, studies and claims.
// `article` ties an entry to the article it is about, so only entries for the played feed show.
export const FACT_CHECKS = [
  { kind: 'image', article: 'ledger-advisory', query: 'Photo: BWA staff taking water samples', result: 'Earliest copy: Brackton Water Authority press kit, 11 June 2025. No older copies found.' },
  { kind: 'image', article: 'nowfeed-fish', query: 'Photo: dead fish covering a shoreline', result: 'Earliest copy: Sorrel Valley News, 3 August 2017, "Heatwave fish kill at Lake Sorrel" (300 km from Brackton). Re-shared with new captions at least five times since.' },
  { kind: 'image', article: 'verrowwatch-data', query: 'Photo: green water at a boat ramp', result: 'Only copy: verrowwatch.example.org, 11 June 2025. Camera data: taken 11 June 2025, 18:12.' },
  { kind: 'claim', article: 'ledger-advisory', query: 'Dana Okafor, BWA spokesperson', result: 'Listed as communications lead on the Brackton Water Authority press page; her statement is on bwa.brackton.example.' },
  { kind: 'claim', article: 'truthpost-coverup', query: 'Dr. Martin Kessler, "chief toxicologist", Brackton General Hospital', result: 'No one of that name in the hospital\'s staff directory, and the hospital has no toxicology department. Press office, 12 June: three people seen with mild stomach upsets this week; none admitted.' },
  { kind: 'claim', article: 'digest-study', query: 'Chen et al. (2025), microcystin study', result: 'Real, peer-reviewed study in mice at about 200 times the levels measured in Brackton. It does not mention Brackton; the authors warn against applying it to short-term human exposure.' },
  { kind: 'claim', article: 'bugle-smoothie', query: 'Mayor Ruth Adeyemi: "green smoothie" plan', result: 'No such plan or quote on the city\'s website or in council papers. The quote appears only on bracktonbugle.example.' },
  { kind: 'claim', article: 'fake-ledger-fee', query: '"$300 toxin clean-up fee"', result: 'BWA scam warning, 12 June: "We are not charging any clean-up fee. Do not pay through links in messages or websites." The Ledger says it never published this story.' },
  { kind: 'claim', article: 'nspm-extended', query: 'BWA advisory 2025-17 update', result: 'On bwa.brackton.example: issued 11 June for Millgate, Eastbank and Harrow Hill; updated 12 June 15:50, extended to at least Tuesday after a second failed test.' },
];

/** The articles played on this difficulty, in feed order (article-<n> is the n-th). */
export function articlesFor(difficulty) {
  return difficulty === 'hard' ? ARTICLES : ARTICLES.slice(0, BASE_FEED_SIZE);
}

/** Whether this difficulty asks for a reason as well as a verdict. */
export function asksForReason(difficulty) {
  return difficulty !== 'easy';
}

/**
 * Judge the player's decisions ([{verdict, reason}] in feed order) against the answers.
 * Pure, so the scoring rule is the same whatever the UI does.
 */
export function scoreDecisions(articles, decisions, difficulty, maxScore) {
  const withReason = asksForReason(difficulty);
  const perArticle = VERDICT_POINTS + (withReason ? REASON_POINTS : 0);
  let points = 0;
  const results = articles.map((article, index) => {
    const choice = decisions[index] || {};
    const verdictRight = choice.verdict === article.verdict;
    const reasonRight = withReason ? verdictRight && choice.reason === article.reason : null;
    points += (verdictRight ? VERDICT_POINTS : 0) + (reasonRight ? REASON_POINTS : 0);
    return { article, choice, verdictRight, reasonRight };
  });
  const score = Math.round((maxScore * points) / (perArticle * articles.length));
  return { score, results };
}

/** The registered domain we hold whois data for, from whatever the player typed. */
export function whoisDomain(input) {
  let host = String(input || '').trim().toLowerCase();
  host = host.replace(/^[a-z]+:\/\//, '').split(/[/?#]/)[0].replace(/^www\./, '');
  const labels = host.split('.');
  for (let i = 0; i < labels.length - 1; i += 1) {
    const candidate = labels.slice(i).join('.');
    if (WHOIS[candidate]) return candidate;
  }
  return null;
}

function reasonLabel(value) {
  const reason = REASONS.find((r) => r.value === value);
  return reason ? reason.label : 'none chosen';
}

// ---------------------------------------------------------------------------------------------
// Windows

function openBriefing(pc, game) {
  const win = pc.openWindow({ id: 'briefing', title: 'Briefing', icon: 'bi-info-circle', width: 470, height: 390 });
  const reasonLine = asksForReason(pc.difficulty)
    ? 'For each article choose Credible or Misleading, and pick the main reason.'
    : 'For each article choose Credible or Misleading.';
  replace(
    win.body,
    h('div', { 'data-testid': 'briefing' },
      h('h2', { class: 'h6' }, icon('bi-newspaper'), ' Fact-check desk, Thursday 12 June 2025'),
      h('p', {}, `An algae bloom in Lake Verrow has put Brackton's tap water in the news, and ${game.articles.length} articles about it are spreading fast. Your editor wants to know which ones deserve to be shared.`),
      h('p', {}, reasonLine, ' Use the tools on the desktop: ', h('strong', {}, 'Source lookup'), ' (who runs an outlet), ',
        h('strong', {}, 'Whois'), ' (when a domain was registered, and by whom) and the ',
        h('strong', {}, 'Fact-check notebook'), ' (reverse image search, people and claims).'),
      h('p', { class: 'mb-2' }, 'Press ', h('strong', {}, 'Submit verdicts'), ' at the bottom of the feed when every article is judged.'),
      h('button', { class: 'btn btn-primary btn-sm', type: 'button', 'data-testid': 'briefing-open-browser', onclick: () => openBrowser(pc, game) },
        icon('bi-globe'), ' Open the news feed')),
  );
}

function openBrowser(pc, game) {
  const win = pc.openWindow({ id: 'browser', title: 'News Browser', icon: 'bi-globe', width: 780, height: 600 });
  if (win.body.firstChild) return;
  win.body.classList.add('p-0');
  game.feedScore = h('div', { class: 'l1-score', 'data-testid': 'level-score', hidden: true });
  game.submit = h('button', { class: 'btn btn-success btn-sm', type: 'button', 'data-testid': 'submit-level', disabled: true, onclick: () => submit(pc, game) },
    icon('bi-send-check'), ' Submit verdicts');
  game.progress = h('span', { class: 'small text-body-secondary', 'data-testid': 'decided-count' });
  replace(
    win.body,
    h('div', { class: 'l1-browser' },
      h('div', { class: 'l1-addressbar' }, icon('bi-lock-fill text-success'), h('span', {}, STORY_URL)),
      h('div', { class: 'l1-feed', 'data-testid': 'feed' }, game.feedScore, game.articles.map((a, i) => articleCard(pc, game, a, i))),
      h('div', { class: 'l1-footer' }, game.progress, game.submit)),
  );
  // The window may have been closed and reopened: show the choices already made.
  game.articles.forEach((_, i) => syncControls(game, i + 1));
  refreshProgress(pc, game);
  if (game.outcome) showFeedback(pc, game);
}

function articleCard(pc, game, article, index) {
  const n = index + 1;
  return h('article', { class: 'l1-article', 'data-testid': `article-${n}` },
    h('div', { class: 'l1-outlet' }, icon('bi-building'), ' ', h('strong', {}, article.outlet), h('span', { class: 'l1-domain', 'data-testid': `domain-${n}` }, article.domain)),
    h('h3', { class: 'l1-headline' }, article.headline),
    h('div', { class: 'l1-byline' }, `${article.author.startsWith('@') ? 'Posted by' : 'By'} ${article.author} · ${article.date}`),
    article.photo && photoBlock(article.photo),
    article.body.map((text) => h('p', { class: 'l1-body' }, text)),
    h('div', { class: 'l1-cites' }, h('strong', {}, 'Cites: '), h('ul', {}, article.cites.map((c) => h('li', {}, c)))),
    pc.difficulty === 'easy' && h('div', { class: 'l1-tip', 'data-testid': `tip-${n}` }, icon('bi-tools'), ` Tools worth trying: ${article.tools.join(', ')}`),
    decisionRow(pc, game, n),
    game.controls[n].feedback,
  );
}

function photoBlock(photo) {
  return h('figure', { class: `l1-photo l1-tone-${photo.tone}` },
    h('div', { class: 'l1-photo-img', role: 'img', 'aria-label': photo.caption }, icon(photo.icon)),
    h('figcaption', {}, photo.caption));
}

function decisionRow(pc, game, n) {
  const buttons = ['credible', 'misleading'].map((verdict) => h('button', {
    class: `btn btn-sm ${verdict === 'credible' ? 'btn-outline-success' : 'btn-outline-danger'}`,
    type: 'button', 'aria-pressed': 'false', 'data-testid': `verdict-${n}-${verdict}`,
    onclick: () => chooseVerdict(pc, game, n, verdict),
  }, icon(verdict === 'credible' ? 'bi-check-circle' : 'bi-exclamation-triangle'), verdict === 'credible' ? ' Credible' : ' Misleading'));
  const reason = asksForReason(pc.difficulty) && h('select', {
    class: 'form-select form-select-sm l1-reason', 'data-testid': `reason-${n}`, 'aria-label': `Main reason for article ${n}`,
    onchange: (event) => chooseReason(pc, game, n, event.target.value),
  }, h('option', { value: '' }, 'Main reason…'), REASONS.map((r) => h('option', { value: r.value }, r.label)));
  const row = h('div', { class: 'l1-decision' }, h('span', { class: 'small me-1' }, 'Your verdict:'), buttons, reason);
  const feedback = h('div', { class: 'l1-feedback', 'data-testid': `feedback-${n}`, hidden: true });
  game.controls[n] = { buttons, reason, feedback };
  return row;
}

// ---------------------------------------------------------------------------------------------
// Decisions

function chooseVerdict(pc, game, n, verdict) {
  if (pc.isFinished) return;
  const choice = game.decisions[n - 1];
  choice.verdict = verdict;
  if (asksForReason(pc.difficulty)) {
    // Saves a step: a credible article's reason is "checks out"; a stale one would contradict.
    if (verdict === 'credible' && !choice.reason) choice.reason = 'credible';
    if (verdict === 'misleading' && choice.reason === 'credible') choice.reason = '';
  }
  syncControls(game, n);
  refreshProgress(pc, game);
}

/** Show article n's current choice on its buttons and reason list. */
function syncControls(game, n) {
  const { verdict, reason: chosenReason } = game.decisions[n - 1];
  const { buttons, reason } = game.controls[n];
  for (const button of buttons) {
    const pressed = Boolean(verdict) && button.dataset.testid.endsWith(verdict);
    button.setAttribute('aria-pressed', String(pressed));
    button.classList.toggle('active', pressed);
  }
  if (reason) reason.value = chosenReason;
}

function chooseReason(pc, game, n, value) {
  if (pc.isFinished) return;
  game.decisions[n - 1].reason = value;
  refreshProgress(pc, game);
}

function isDecided(pc, choice) {
  return Boolean(choice.verdict) && (!asksForReason(pc.difficulty) || Boolean(choice.reason));
}

function refreshProgress(pc, game) {
  if (!game.submit) return;
  const decided = game.decisions.filter((c) => isDecided(pc, c)).length;
  game.progress.textContent = `${decided} of ${game.articles.length} articles judged`;
  game.submit.disabled = pc.isFinished || decided < game.articles.length;
}

function submit(pc, game) {
  if (pc.isFinished || game.decisions.some((c) => !isDecided(pc, c))) return;
  const { score, results } = scoreDecisions(game.articles, game.decisions, pc.difficulty, pc.level.max_score);
  for (const r of results) {
    if (!r.verdictRight) pc.recordMistake();
    else if (r.reasonRight === false) pc.recordMistake();
  }
  game.outcome = { score, results };
  showFeedback(pc, game);
  pc.finish({ score, summary: summaryLines(pc, results) });
}

function summaryLines(pc, results) {
  const verdicts = results.filter((r) => r.verdictRight).length;
  const lines = [`Correct verdicts: ${verdicts} of ${results.length}.`];
  if (asksForReason(pc.difficulty)) lines.push(`Correct reasons: ${results.filter((r) => r.reasonRight).length} of ${results.length}.`);
  for (const [i, r] of results.entries()) {
    if (!r.verdictRight || r.reasonRight === false) lines.push(`Article ${i + 1} ("${r.article.outlet}"): ${r.article.verdict}, ${reasonLabel(r.article.reason).toLowerCase()}.`);
  }
  lines.push('The feedback under each article in the News Browser explains why.');
  return lines;
}

function showFeedback(pc, game) {
  const { score, results } = game.outcome;
  game.feedScore.hidden = false;
  replace(game.feedScore, icon('bi-clipboard-check'), ` Score: ${score} / ${pc.level.max_score}. Read the feedback under each article.`);
  results.forEach((r, i) => {
    const n = i + 1;
    const right = r.verdictRight && r.reasonRight !== false;
    const box = game.controls[n].feedback;
    box.hidden = false;
    box.classList.add(right ? 'l1-right' : 'l1-wrong');
    replace(box,
      h('strong', {}, icon(right ? 'bi-check-circle-fill' : 'bi-x-circle-fill'), right ? ' Correct. ' : ' Not quite. '),
      `Answer: ${r.article.verdict === 'credible' ? 'Credible' : 'Misleading'} (${reasonLabel(r.article.reason)}). `,
      r.article.explanation);
  });
  for (const { buttons, reason } of Object.values(game.controls)) {
    for (const button of buttons) button.disabled = true;
    if (reason) reason.disabled = true;
  }
  game.submit.disabled = true;
  game.feedScore.scrollIntoView({ block: 'start' });
}

// ---------------------------------------------------------------------------------------------
// Tools

function openSourceLookup(pc) {
  const win = pc.openWindow({ id: 'source-lookup', title: 'Source lookup', icon: 'bi-building-check', width: 440, height: 440 });
  if (win.body.firstChild) return;
  const results = h('div', { 'data-testid': 'source-results' });
  const input = h('input', { class: 'form-control form-control-sm', type: 'search', placeholder: 'Outlet name or domain', 'data-testid': 'source-query', 'aria-label': 'Outlet name or domain' });
  const run = () => replace(results, sourceResults(pc, input.value));
  input.addEventListener('keydown', (event) => { if (event.key === 'Enter') run(); });
  replace(win.body,
    h('p', { class: 'small text-body-secondary mb-2' }, 'What is on record about a news outlet: who owns it, how long it has existed, whether it corrects its mistakes.'),
    h('div', { class: 'input-group input-group-sm mb-2' }, input,
      h('button', { class: 'btn btn-info', type: 'button', 'data-testid': 'source-search', onclick: run }, icon('bi-search'), ' Look up')),
    results);
}

function sourceResults(pc, query) {
  const q = query.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/^www\./, '').split('/')[0];
  if (!q) return h('p', { class: 'small' }, 'Type an outlet name or a domain.');
  const matches = Object.entries(OUTLETS).filter(([domain, o]) => domain === q || (q.length > 2 && o.name.toLowerCase().includes(q)));
  const typedDomain = q.includes('.');
  const exact = matches.some(([domain]) => domain === q);
  const notice = typedDomain && !exact && h('div', { class: 'alert alert-warning py-1 px-2 small', 'data-testid': 'source-no-record' },
    `No outlet with the domain "${q}" is in our records.`, matches.length ? ' Outlets with a similar name are listed below: compare their domains.' : '');
  if (!matches.length && !notice) return h('p', { class: 'small', 'data-testid': 'source-no-record' }, 'No outlet matches that name in our records.');
  return [notice, matches.map(([domain, outlet]) => outletProfile(pc, domain, outlet))];
}

function outletProfile(pc, domain, outlet) {
  const rows = [['Domain', domain], ['Type', outlet.type], ['Founded', outlet.founded], ['Owner', outlet.owner], ['Corrections', outlet.corrections], ['Staff', outlet.staff]];
  if (outlet.notes) rows.push(['Notes', outlet.notes]);
  return h('div', { class: 'card mb-2', 'data-testid': `outlet-${domain}` },
    h('div', { class: 'card-body p-2 small' },
      h('div', { class: 'fw-bold mb-1' }, outlet.name),
      h('dl', { class: 'l1-facts mb-0' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      pc.difficulty === 'easy' && h('div', { class: 'mt-1 text-info' }, icon('bi-info-circle'), ' ', outlet.summary)));
}

function openWhois(pc) {
  const win = pc.openWindow({ id: 'whois', title: 'Whois', icon: 'bi-person-vcard', width: 420, height: 340 });
  if (win.body.firstChild) return;
  const result = h('div', { 'data-testid': 'whois-result' });
  const input = h('input', { class: 'form-control form-control-sm', type: 'search', placeholder: 'example: brackton-ledger.example', 'data-testid': 'whois-query', 'aria-label': 'Domain' });
  const run = () => replace(result, whoisResult(input.value));
  input.addEventListener('keydown', (event) => { if (event.key === 'Enter') run(); });
  replace(win.body,
    h('p', { class: 'small text-body-secondary mb-2' }, 'Registration record of a domain: when it was created and who registered it.'),
    h('div', { class: 'input-group input-group-sm mb-2' }, input,
      h('button', { class: 'btn btn-info', type: 'button', 'data-testid': 'whois-search', onclick: run }, icon('bi-search'), ' Whois')),
    result);
}

function whoisResult(query) {
  const domain = whoisDomain(query);
  if (!domain) return h('p', { class: 'small' }, query.trim() ? `No registration record found for "${query.trim()}".` : 'Type a domain.');
  const record = WHOIS[domain];
  return h('pre', { class: 'l1-whois' },
    `Domain name:   ${domain}\nCreated:       ${record.created}\nRegistrar:     ${record.registrar}\nRegistrant:    ${record.registrant}`);
}

function openFactCheck(pc, game) {
  const win = pc.openWindow({ id: 'fact-check', title: 'Fact-check notebook', icon: 'bi-journal-check', width: 500, height: 470 });
  if (win.body.firstChild) return;
  const playedIds = new Set(game.articles.map((a) => a.id));
  const entries = FACT_CHECKS.filter((e) => playedIds.has(e.article));
  const section = (kind, title, iconName) => [
    h('h3', { class: 'h6 mt-2' }, icon(iconName), ' ', title),
    h('div', { class: 'list-group mb-2' }, entries.filter((e) => e.kind === kind).map((e) => factCheckEntry(e))),
  ];
  replace(win.body,
    h('p', { class: 'small text-body-secondary mb-1' }, 'Run a check to see what the fact-check desk found.'),
    section('image', 'Reverse image search', 'bi-images'),
    section('claim', 'People, studies and claims', 'bi-person-lines-fill'));
}

function factCheckEntry(entry) {
  const result = h('div', { class: 'small mt-1 l1-check-result', 'data-testid': `check-result-${entry.article}-${entry.kind}`, hidden: true }, entry.result);
  const button = h('button', { class: 'btn btn-sm btn-outline-info ms-auto', type: 'button', 'data-testid': `check-${entry.article}-${entry.kind}`,
    onclick: () => { result.hidden = false; button.disabled = true; } }, 'Check');
  return h('div', { class: 'list-group-item p-2' },
    h('div', { class: 'd-flex align-items-center gap-2 small' }, h('span', {}, entry.query), button), result);
}

// ---------------------------------------------------------------------------------------------
// Hints

function currentHint(pc, game) {
  if (!game.submit) return 'Double-click "News Browser" on the desktop to open the feed you have to judge.';
  const index = game.decisions.findIndex((c) => !isDecided(pc, c));
  if (index === -1) return 'Every article has a verdict. Look over your choices, then press "Submit verdicts" at the bottom of the feed.';
  const choice = game.decisions[index];
  const prefix = `Article ${index + 1} (${game.articles[index].outlet}): `;
  if (choice.verdict && !choice.reason) return `${prefix}you chose a verdict; now pick the main reason from the list.`;
  return prefix + game.articles[index].hint;
}

/** Start the level on the simulated PC. */
export function start(pc) {
  loadLevelStylesheet(1);
  const articles = articlesFor(pc.difficulty);
  const game = {
    articles,
    decisions: articles.map(() => ({ verdict: '', reason: '' })),
    controls: {},
    submit: null,
    outcome: null,
  };
  pc.addIcon({ id: 'browser', label: 'News Browser', icon: 'bi-globe', open: () => openBrowser(pc, game) });
  pc.addIcon({ id: 'source-lookup', label: 'Source lookup', icon: 'bi-building-check', open: () => openSourceLookup(pc) });
  pc.addIcon({ id: 'whois', label: 'Whois', icon: 'bi-person-vcard', open: () => openWhois(pc) });
  pc.addIcon({ id: 'fact-check', label: 'Fact-check notebook', icon: 'bi-journal-check', open: () => openFactCheck(pc, game) });
  pc.addIcon({ id: 'briefing', label: 'Briefing', icon: 'bi-info-circle', open: () => openBriefing(pc, game) });
  pc.setHintProvider(() => currentHint(pc, game));
  openBriefing(pc, game);
}
