// The rows of a completion's XP breakdown, in the server's words: the terms (label, rule, sign)
// come from the play page's config, the values from the answer; nothing here knows the formula.

/**
 * breakdownRows(breakdown, terms) -> [{name, label, rule, value}] for each term the breakdown
 * carries, in the terms' order. A term the breakdown lacks (an earlier completion's) is skipped.
 */
export function breakdownRows(breakdown, terms) {
  return terms
    .filter((term) => breakdown[term.name] !== undefined && breakdown[term.name] !== null)
    .map((term) => {
      const shown = String(breakdown[term.name]);
      const mode = term.name === 'difficulty_multiplier' && breakdown.difficulty;
      return {
        name: term.name,
        label: mode ? `${term.label} (${mode})` : term.label,
        rule: term.rule,
        value: term.sign ? `${term.sign} ${shown}` : shown,
      };
    });
}
