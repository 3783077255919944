import { excerpt } from "../excerpt.ts";
import { compileRegex } from "../spec-schema.ts";

/** One expected answer of the dns kind's `expectedAnswers`: exact text, or a regex when written "/.../". */
export interface AnswerMatcher {
  text: string;
  matches: (answer: string) => boolean;
}

export function toAnswerMatcher(text: string, field: string): AnswerMatcher {
  const regexBody = /^\/(.*)\/$/s.exec(text);
  if (regexBody?.[1] !== undefined) {
    const pattern = compileRegex(regexBody[1], field);
    return { text, matches: (answer) => pattern.test(answer) };
  }
  return { text, matches: (answer) => answer === text };
}

/** Why `answers` fail minAnswers or expectedAnswers, naming what came (ten at most, each an excerpt); "" when they pass. */
export function answersProblem(answers: readonly string[], minAnswers: number, expected: readonly AnswerMatcher[], asked: string): string {
  if (answers.length < minAnswers) return `${asked} returned ${answers.length} answers, expected at least ${minAnswers}`;
  for (const matcher of expected) {
    if (!answers.some((answer) => matcher.matches(answer))) {
      return `${asked}: no answer matches ${JSON.stringify(matcher.text)}; got [${answers.slice(0, 10).map((answer) => excerpt(answer)).join(",")}${answers.length > 10 ? ",..." : ""}]`;
    }
  }
  return "";
}
