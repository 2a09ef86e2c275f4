/**
 * Settings shoal once had and no longer has. A deployment that still sets one keeps working: the
 * flag is still accepted (hidden from --help), the variable is still read, and either prints one
 * warning and changes nothing. The value is never parsed: it does nothing whatever it is, so a value
 * the old parser refused (SHOAL_SUPER_SEED=maybe) is not an error either, only the same warning.
 */
export interface RetiredSetting {
  /** Attribute name the still-accepted flag gets in the parsed options (never a key of Settings). */
  key: string
  flag: string
  env: string
  /** Why it is ignored: what happens instead, and where the decision is recorded. */
  reason: string
}

export const RETIRED_SETTINGS: readonly RetiredSetting[] = [
  // session 22: "One origin policy: first-copy" in docs/decisions.md
  { key: 'superSeed', flag: '--super-seed', env: 'SHOAL_SUPER_SEED', reason: 'every seeder now uses the first-copy policy (docs/decisions.md)' }
]

/**
 * One warning per retired setting that the flags or the environment still set, naming where (the
 * flag when both do). An empty variable sets nothing and is not warned about: compose files and
 * copied .env files often carry `NAME=`.
 */
export function retiredSettingWarnings (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): string[] {
  const warnings: string[] = []
  for (const r of RETIRED_SETTINGS) {
    const source = flags[r.key] !== undefined ? r.flag : (env[r.env] ?? '') !== '' ? r.env : undefined
    if (source !== undefined) warnings.push(`${source} is retired and ignored: ${r.reason}`)
  }
  return warnings
}
