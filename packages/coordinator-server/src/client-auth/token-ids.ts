// The protocol names client tokens by UUID; the datastore numbers them. The
// UUID form of token n is `00000000-0000-4000-8000-<n as 12 hex digits>`
// (a valid version-4 layout), and only that form maps back.
const PREFIX = '00000000-0000-4000-8000-';

/** The protocol's UUID for datastore token number `id`. */
export function tokenUuid(id: number): string {
  return `${PREFIX}${id.toString(16).padStart(12, '0')}`;
}

/** The datastore number of a token UUID, or undefined when `uuid` is not one. */
export function tokenNumber(uuid: string): number | undefined {
  const u = uuid.toLowerCase();
  if (!u.startsWith(PREFIX) || !/^[0-9a-f]{12}$/.test(u.slice(PREFIX.length))) return undefined;
  const n = Number.parseInt(u.slice(PREFIX.length), 16);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
