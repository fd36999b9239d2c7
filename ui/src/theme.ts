/**
 * Light and dark themes: the system's (prefers-color-scheme) unless the user picked one, kept in
 * localStorage. The styles key on `data-theme` of <html>.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'offload.theme';

export function storedTheme(): ThemeChoice {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** The theme in effect for a choice. */
export function effectiveTheme(choice: ThemeChoice): 'light' | 'dark' {
  if (choice !== 'system') return choice;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(choice: ThemeChoice): void {
  document.documentElement.dataset['theme'] = effectiveTheme(choice);
  document.documentElement.dataset['themeChoice'] = choice;
  try {
    if (choice === 'system') window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, choice);
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
}

export const NEXT_THEME: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
