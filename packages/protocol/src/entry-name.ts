/**
 * A directory entry's name as a host may send it: one path component. Not empty, not `.` or
 * `..`, no `/` and no NUL, at most 1024 characters. A client joins these names onto local
 * paths (`wormhole get`, the mount's lookups), so a name that is not a single component would
 * let a hostile host write or resolve outside the place the user chose.
 */
export function isEntryName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length >= 1 &&
    name.length <= 1024 &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\0')
  );
}
