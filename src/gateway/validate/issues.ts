/**
 * From zod issues to the one 400 a client reads: `param` names the field by its path (`messages[0].content`), and the
 * message says what was expected and what came, e.g. "max_tokens must be an integer, got a number (3.7)". A field
 * that is absent is "required"; one of the wrong type is never reported as absent.
 *
 * `issueText` is the per-parse error map: it words zod's default issues to follow the field's name. Messages a schema
 * sets itself win over it, so they are written the same way ("must name a model").
 */
import type { z } from 'zod';
import { InvalidRequestError } from '../../core/errors.ts';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** How much of a string value an error message quotes. */
const quotedCharsMax = 40;

/** `messages.0.content` → `messages[0].content`, as OpenAI names params. */
export function paramOf(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/** A JSON value's type, with the value when it is short: `a number (3.7)`, `a string ("hot")`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
      return `a number (${value})`;
    case 'boolean':
      return `a boolean (${value})`;
    case 'string': {
      const quoted = JSON.stringify(value.length > quotedCharsMax ? `${value.slice(0, quotedCharsMax)}…` : value);
      return `a string (${quoted})`;
    }
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const typeNames: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

const formatNames: Record<string, string> = {
  datetime: 'an ISO 8601 date-time with an offset (e.g. 2026-01-31T00:00:00Z)',
  date: 'an ISO 8601 date (e.g. 2026-01-31)',
};

function typeName(expected: string): string {
  return typeNames[expected] ?? expected;
}

/** `z.int()` says it expects a "number" when it gets a string; the schema's format says it wants an integer. */
function expectedOf(issue: { expected: string; inst?: unknown }): string {
  const format = (issue.inst as { _zod?: { def?: { format?: string } } } | undefined)?._zod?.def?.format;
  return format !== undefined && /int/.test(format) ? 'int' : issue.expected;
}

function joinOr(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

function literal(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

function bound(issue: { origin: string; inclusive?: boolean }, value: number | bigint, most: boolean): string {
  const word = most ? (issue.inclusive ? 'at most' : 'less than') : issue.inclusive ? 'at least' : 'greater than';
  switch (issue.origin) {
    case 'string':
      return `must be ${word} ${value} characters long`;
    case 'array':
    case 'set':
      return `must hold ${word} ${value} items`;
    default:
      return `must be ${word} ${value}`;
  }
}

/** The per-parse error map: the text that follows the field's name. */
export const issueText: z.core.$ZodErrorMap = (issue: RawIssue) => {
  const got = issue.input === undefined ? '' : `, got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${typeName(expectedOf(issue))}${got}`;
    case 'too_big':
      return `${bound(issue, issue.maximum, true)}${typeof issue.input === 'number' ? got : ''}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return `${bound(issue, issue.minimum, false)}${typeof issue.input === 'number' ? got : ''}`;
    case 'invalid_value':
      if (issue.input === undefined) return 'is required';
      if (issue.values.length === 1) return `must be ${literal(issue.values[0])}${got}`;
      return `must be one of ${issue.values.map(literal).join(', ')}${got}`;
    case 'invalid_format':
      if (issue.format === 'regex') return `must match ${(issue as { pattern?: string }).pattern}${got}`;
      return `must be ${formatNames[issue.format] ?? `a valid ${issue.format}`}${got}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return 'is invalid';
  }
};

/** What one issue comes to: where, what to say, and the OpenAI-style code. */
export interface IssueReport {
  path: PropertyKey[];
  message: string;
  code: 'missing_required_parameter' | 'invalid_type' | 'invalid_value' | 'unknown_parameter';
}

const isRootTypeMismatch = (issue: Issue | undefined) => issue?.code === 'invalid_type' && issue.path.length === 0;

/** A union: the branch whose type matched speaks; when none did, every type it takes is listed. */
function resolveUnion(issue: z.core.$ZodIssueInvalidUnion, prefix: PropertyKey[]): IssueReport {
  const path = [...prefix, ...issue.path];
  const discriminator = issue as { discriminator?: string; options?: unknown[] };
  if (issue.errors.length === 0 && discriminator.options) {
    const input = (issue.input as Record<string, unknown> | undefined)?.[discriminator.discriminator ?? ''];
    const got = input === undefined ? '' : `, got ${describeValue(input)}`;
    return {
      path,
      message: `must be one of ${discriminator.options.map(literal).join(', ')}${got}`,
      code: 'invalid_value',
    };
  }
  const matched = issue.errors.filter((branch) => !isRootTypeMismatch(branch[0]));
  if (matched.length === 0) {
    if (issue.input === undefined) return { path, message: 'is required', code: 'missing_required_parameter' };
    const types = [...new Set(issue.errors.map((branch) => typeName(expectedOf(branch[0] as { expected: string }))))];
    return { path, message: `must be ${joinOr(types)}, got ${describeValue(issue.input)}`, code: 'invalid_type' };
  }
  const firsts = matched.map((branch) => branch[0]!);
  const samePlace = firsts.every((first) => paramOf(first.path) === paramOf(firsts[0]!.path));
  if (firsts.length > 1 && samePlace && firsts.every((first) => first.code === 'invalid_value')) {
    const values = [...new Set(firsts.flatMap((first) => (first as z.core.$ZodIssueInvalidValue).values))];
    const input = (firsts[0] as { input?: unknown }).input;
    const got = input === undefined ? '' : `, got ${describeValue(input)}`;
    return {
      path: [...path, ...firsts[0]!.path],
      message: `must be one of ${values.map(literal).join(', ')}${got}`,
      code: 'invalid_value',
    };
  }
  return resolve(firsts[0]!, path);
}

function resolve(issue: Issue, prefix: PropertyKey[] = []): IssueReport {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'invalid_union':
      return resolveUnion(issue, prefix);
    case 'unrecognized_keys':
      return { path: [...path, issue.keys[0]!], message: '', code: 'unknown_parameter' };
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'is invalid';
      return {
        path: path.slice(0, -1),
        message: `has an invalid key ${JSON.stringify(String(path.at(-1)))}: it ${inner}`,
        code: 'invalid_value',
      };
    }
    case 'invalid_type':
      if (issue.input === undefined) return { path, message: issue.message, code: 'missing_required_parameter' };
      return { path, message: issue.message, code: 'invalid_type' };
    case 'invalid_value':
      if (issue.input === undefined) return { path, message: issue.message, code: 'missing_required_parameter' };
      return { path, message: issue.message, code: 'invalid_value' };
    default:
      return { path, message: issue.message, code: 'invalid_value' };
  }
}

/** `z.int()` also checks the safe-integer range; the schema's own bound on the same field says more. */
function isSafeIntegerBound(issue: Issue): boolean {
  return (issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'int';
}

function firstIssue(issues: readonly Issue[]): Issue {
  const first = issues[0]!;
  if (!isSafeIntegerBound(first)) return first;
  const place = paramOf(first.path);
  return issues.find((issue) => !isSafeIntegerBound(issue) && paramOf(issue.path) === place) ?? first;
}

/** The 400 for a failed parse: its first issue, named by its path. */
export function invalidRequestOf(issues: readonly Issue[]): InvalidRequestError {
  const report = resolve(firstIssue(issues));
  const param = paramOf(report.path);
  if (report.code === 'unknown_parameter') {
    return new InvalidRequestError(`unrecognized request argument supplied: ${param}`, { code: report.code, param });
  }
  return new InvalidRequestError(`${param ?? 'the request body'} ${report.message}`, { code: report.code, param });
}
