/**
 * Asks for a bearer token when the API answers 401 (chainr with auth on). The token is kept for
 * the session, or on this device when asked, and the page starts over with it.
 */
import { useEffect, useRef, useState } from 'react';
import { getToken, onUnauthorized, setToken } from '../shared/auth.ts';

export function useSignInPrompt(): [boolean, () => void] {
  const [asked, setAsked] = useState(false);
  useEffect(() => onUnauthorized(() => setAsked(true)), []);
  return [asked, () => setAsked(false)];
}

export function SignIn({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [token, setTokenText] = useState('');
  const [remember, setRemember] = useState(false);
  const hadToken = getToken() !== undefined;
  useEffect(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }, []);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="sign-in-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id="sign-in-title">
        {hadToken ? 'This token was refused' : 'This chainr needs a token'}
      </h2>
      <form
        className="dialog-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim() === '') return;
          setToken(token.trim(), remember);
          window.location.reload();
        }}
      >
        <p className="muted">
          {hadToken
            ? 'It is unknown, or its role does not allow this. Paste another one.'
            : 'Paste the bearer token your chainr administrator gave you.'}
        </p>
        <label className="field">
          <span>Token</span>
          <input
            type="password"
            autoComplete="off"
            value={token}
            onChange={(event) => setTokenText(event.target.value)}
            autoFocus
          />
        </label>
        <label className="field-inline checkbox">
          <input
            type="checkbox"
            checked={remember}
            onChange={(event) => setRemember(event.target.checked)}
          />
          <span>Remember on this device</span>
        </label>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Not now
          </button>
          <button type="submit" className="button button-primary" disabled={token.trim() === ''}>
            Use this token
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function SignOut() {
  if (getToken() === undefined) return null;
  return (
    <button
      type="button"
      className="nav-link nav-button"
      onClick={() => {
        setToken(undefined);
        window.location.reload();
      }}
    >
      Sign out
    </button>
  );
}
