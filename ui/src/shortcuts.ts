/**
 * Keyboard shortcuts: `g` then `o`, `q`, `j` or `w` goes to a page; `/` goes to the job search.
 * Ignored while typing in a field, and with a modifier held.
 */
import { useEffect } from 'preact/hooks';
import { href, navigate } from './router.ts';

const PAGES: Record<string, string> = { o: '/', q: '/queues', j: '/jobs', w: '/workers' };

let requestedFocus: string | null = null;

/**
 * The element asked to get the focus once a page has rendered (instead of the content), if it is
 * on the page now; the request is then used up. Not there yet, the request waits for the next
 * page: `/` pressed on a page whose own focus (an effect, run after paint) is still due must not
 * spend the request on that page, where the field is not.
 */
export function takeRequestedFocus(): HTMLElement | null {
  if (requestedFocus === null) return null;
  const el = document.getElementById(requestedFocus);
  if (el !== null) requestedFocus = null;
  return el;
}

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));
}

export function useShortcuts(): void {
  useEffect(() => {
    let pendingG = false;
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
      if (pendingG) {
        pendingG = false;
        const page = PAGES[e.key];
        if (page !== undefined) {
          e.preventDefault();
          navigate(href(page));
        }
        return;
      }
      if (e.key === 'g') pendingG = true;
      else if (e.key === '/') {
        e.preventDefault();
        const search = document.getElementById('job-search');
        if (search !== null) search.focus();
        else {
          // The field exists once the Jobs page rendered; the page change focuses it then.
          requestedFocus = 'job-search';
          navigate(href('/jobs'));
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
