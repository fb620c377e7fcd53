/** Keyboard shortcuts, active whenever the user is not typing, and the dialog that lists them. */
import { useEffect, useRef } from 'react';
import { isTyping } from '../shared/dom.ts';
import { runsHref, submitHref } from './routes.ts';

export const SHORTCUTS: readonly [keys: string, what: string][] = [
  ['g r', 'Go to the runs'],
  ['g s', 'Go to Submit'],
  ['/', 'Search: the runs filter, or the log of the open job'],
  ['Esc', 'Close the job panel or a dialog'],
  ['Enter', 'Open the focused job on the graph'],
  ['Ctrl+Enter', 'Submit the pipeline (in the editor)'],
  ['Esc, then Tab', 'Leave the editor (Tab alone indents)'],
  ['?', 'This list'],
];

export function useShortcuts({
  onHelp,
  navigate,
}: {
  onHelp: () => void;
  navigate: (href: string) => void;
}) {
  const pendingG = useRef(false);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      if (document.querySelector('dialog[open]')) return;
      const wasG = pendingG.current;
      pendingG.current = event.key === 'g';
      if (wasG && event.key === 'r') navigate(runsHref());
      else if (wasG && event.key === 's') navigate(submitHref);
      else if (event.key === '?') onHelp();
      else if (event.key === '/') {
        const search =
          document.querySelector<HTMLInputElement>('.log-search') ??
          document.querySelector<HTMLInputElement>('[data-shortcut-search], .filters input');
        if (search) {
          event.preventDefault();
          search.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onHelp, navigate]);
}

export function Shortcuts({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }, []);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="shortcuts-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table className="table table-compact">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <th scope="row">
                <kbd>{keys}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}
