// Store path names: at most 211 bytes of [A-Za-z0-9+-._?=], not starting with '.'.
import { quote } from '../errors.js';
import { StorePathError } from './errors.js';

/** Longest name a store path may carry, in bytes. */
export const MAX_STORE_PATH_NAME_LENGTH = 211;

const NAME_CHARS = /^[A-Za-z0-9+\-._?=]*$/;

/** Returns why `name` is not a valid store path name, or undefined when it is. */
export function storePathNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > MAX_STORE_PATH_NAME_LENGTH)
    return `the name is longer than ${MAX_STORE_PATH_NAME_LENGTH} bytes`;
  if (name.startsWith('.')) return "the name starts with '.'";
  if (!NAME_CHARS.test(name)) return 'the name holds a character outside [A-Za-z0-9+-._?=]';
  return undefined;
}

/** True when `name` may be the name part of a store path. */
export function isValidStorePathName(name: string): boolean {
  return storePathNameProblem(name) === undefined;
}

/** Throws StorePathError `store-path-name` unless `name` is a valid store path name. */
export function validateStorePathName(name: string): string {
  const problem = storePathNameProblem(name);
  if (problem !== undefined) {
    throw new StorePathError('store-path-name', `invalid store path name: ${problem}`, {
      expected: `1-${MAX_STORE_PATH_NAME_LENGTH} characters of [A-Za-z0-9+-._?=], not starting with '.'`,
      found: quote(name),
    });
  }
  return name;
}
