// Validation problems name the offending field at the start of their detail
// ("name: must be 1 to 100 characters", "fields[1].label: …", "inputs.topic: …"), so forms
// can show them beside that field.

import { isApiError } from "./client";

export interface FieldProblem {
  /** The path as the API wrote it: `name`, `fields[1].label`, `inputs.topic`, `tone[2]`. */
  path: string;
  /** The rest of the detail. */
  message: string;
}

const PATH = /^([a-z_][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z_][a-z0-9_]*)?): (.+)$/s;

/** The field a 400 problem names, or null when it names none (or is not a 400). */
export function fieldProblem(error: unknown): FieldProblem | null {
  if (!isApiError(error) || error.status !== 400) return null;
  const match = PATH.exec(error.detail);
  return match ? { path: match[1]!, message: match[2]! } : null;
}
