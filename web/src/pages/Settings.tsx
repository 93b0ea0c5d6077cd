import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api/client';
import type { ApiToken, CreatedToken } from '../api/types';
import { ChangePasswordForm } from '../components/ChangePasswordForm';
import { DeleteAccountSection } from '../components/DeleteAccountSection';
import { ConfirmDialog } from '../components/Dialog';
import { Icon } from '../components/Icon';
import { useTitle } from '../components/Layout';
import { Spinner } from '../components/Spinner';
import { useAnnounce } from '../lib/announcer';
import { useAuth } from '../lib/auth';
import { formatDate, relativeTime } from '../lib/format';
import { useResync } from '../lib/live';

/** The server refuses longer names (400) rather than cutting them. */
const MAX_TOKEN_NAME = 100;

function message(error: unknown, fallback: string) {
  return error instanceof ApiError ? error.message : fallback;
}

export function Settings() {
  useTitle('Settings');
  const { user } = useAuth();
  const announce = useAnnounce();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [loadError, setLoadError] = useState('');
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState('');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  /** 'manual': the clipboard was refused (no Clipboard API off HTTPS), the token is selected. */
  const [copied, setCopied] = useState<'no' | 'yes' | 'manual'>('no');
  const tokenRef = useRef<HTMLElement>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const [revoked, setRevoked] = useState(0);
  // The dialog hands focus back to the button that opened it, which went with its row: a
  // keyboard user would start again from the top of the page.
  useEffect(() => {
    if (revoked > 0) nameRef.current?.focus();
  }, [revoked]);

  const loadTokens = useCallback(() => {
    setLoadError('');
    api
      .listTokens()
      .then(({ tokens }) => setTokens(tokens))
      .catch((e) => setLoadError(message(e, 'Could not load your tokens.')));
  }, []);
  useEffect(loadTokens, [loadTokens]);
  // A list that could not be loaded (the server was gone) is loaded again once it is back.
  useResync(() => {
    if (tokens === null) loadTokens();
  });

  const onCreate = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setNameError('Give the token a name, such as “laptop script”.');
      return;
    }
    const length = [...trimmed].length;
    if (length > MAX_TOKEN_NAME) {
      setNameError(`Use at most ${MAX_TOKEN_NAME} characters; this name has ${length}.`);
      return;
    }
    setCreating(true);
    setNameError('');
    try {
      const token = await api.createToken(trimmed);
      setCreated(token);
      setCopied('no');
      setName('');
      // Last, as the server lists them (oldest first): a reload keeps the order.
      setTokens((current) => [
        ...(current ?? []),
        { id: token.id, name: token.name, created_at_ms: Date.now(), last_used_at_ms: null },
      ]);
      announce(`Token ${token.name} created.`);
    } catch (e) {
      setNameError(message(e, 'Could not create the token.'));
    } finally {
      setCreating(false);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied('yes');
      announce('Token copied to the clipboard.');
    } catch {
      if (tokenRef.current) window.getSelection()?.selectAllChildren(tokenRef.current);
      setCopied('manual');
    }
  };

  const onRevoke = async () => {
    if (!revoking) return;
    setBusy(true);
    try {
      let already = false;
      try {
        await api.deleteToken(revoking.id);
      } catch (e) {
        // Revoked meanwhile, in another tab or by a script: what was asked is done.
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        already = true;
      }
      setTokens((current) => (current ?? []).filter((t) => t.id !== revoking.id));
      if (created?.id === revoking.id) setCreated(null);
      announce(`Token ${revoking.name} ${already ? 'had already been revoked' : 'revoked'}.`);
      setRevoking(null);
      setRevoked((count) => count + 1);
    } catch (e) {
      setLoadError(message(e, 'Could not revoke the token.'));
      setRevoking(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="settings">
      <h1>Settings</h1>
      <section className="card" aria-labelledby="account-title">
        <h2 id="account-title" className="h3">
          Account
        </h2>
        <dl className="facts">
          <dt>Email</dt>
          <dd>{user?.email}</dd>
          <dt>Role</dt>
          <dd>{user?.is_admin ? 'Administrator' : 'Member'}</dd>
        </dl>
      </section>

      <section className="card" aria-labelledby="password-title">
        <h2 id="password-title" className="h3">
          Password
        </h2>
        <ChangePasswordForm />
      </section>

      <section className="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title" className="h3">
          API tokens
        </h2>
        <p className="muted">
          Tokens let scripts use the API as you: send <code>Authorization: Bearer &lt;token&gt;</code>.
        </p>
        <form className="inline-form" onSubmit={onCreate} noValidate>
          <div className={`field grow${nameError ? ' has-error' : ''}`}>
            <label htmlFor="token-name">Token name</label>
            <input
              id="token-name"
              ref={nameRef}
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                setNameError('');
              }}
              aria-invalid={nameError ? true : undefined}
              aria-describedby={nameError ? 'token-name-error' : 'token-name-hint'}
              placeholder="e.g. backup script"
            />
            {!nameError && (
              <p id="token-name-hint" className="hint">
                Up to {MAX_TOKEN_NAME} characters.
              </p>
            )}
            {nameError && (
              <p id="token-name-error" className="field-error">
                {nameError}
              </p>
            )}
          </div>
          <button type="submit" className="button primary" disabled={creating}>
            <Icon name="key" size={16} /> {creating ? 'Creating…' : 'Create token'}
          </button>
        </form>

        {created && (
          // Not a live region: its change (Copied) would have the secret read out aloud again.
          // The announcer says the token was made and copied.
          <div className="alert success token-once">
            <p>
              <strong>Copy your new token now.</strong> It is shown only once.
            </p>
            <div className="token-value">
              <code data-testid="new-token" ref={tokenRef}>
                {created.token}
              </code>
              <button type="button" className="button small" onClick={copy}>
                <Icon name="copy" size={16} /> {copied === 'yes' ? 'Copied' : 'Copy'}
              </button>
            </div>
            {copied === 'manual' && (
              <p className="small" role="alert">
                This page may not use the clipboard: the token is selected, press Ctrl+C (⌘C on a Mac) to copy it.
              </p>
            )}
            <button
              type="button"
              className="button ghost small"
              onClick={() => {
                setCreated(null);
                // The box and this button go: the next token's name is where the user goes on.
                nameRef.current?.focus();
              }}
            >
              I have saved it
            </button>
          </div>
        )}

        {loadError && (
          <div className="alert error" role="alert">
            {loadError}
            {tokens === null && (
              <>
                {' '}
                <button type="button" className="button small" onClick={loadTokens}>
                  Try again
                </button>
              </>
            )}
          </div>
        )}
        {tokens === null && !loadError && <Spinner label="Loading tokens" />}
        {tokens && tokens.length === 0 && <p className="muted">No tokens yet.</p>}
        {tokens && tokens.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.map((token) => (
                  <tr key={token.id}>
                    <td>
                      <span className="token-name" title={token.name}>
                        {token.name}
                      </span>
                    </td>
                    <td>{formatDate(token.created_at_ms)}</td>
                    <td>{token.last_used_at_ms ? relativeTime(token.last_used_at_ms) : 'Never'}</td>
                    <td className="actions">
                      <button
                        type="button"
                        className="button danger small"
                        aria-label={`Revoke ${token.name}`}
                        onClick={() => setRevoking(token)}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card danger-zone" aria-labelledby="delete-account-title">
        <h2 id="delete-account-title" className="h3">
          Delete account
        </h2>
        <DeleteAccountSection />
      </section>
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          message="Scripts using this token will stop working at once."
          confirmLabel="Revoke"
          busyLabel="Revoking…"
          busy={busy}
          onConfirm={onRevoke}
          onCancel={() => !busy && setRevoking(null)}
        />
      )}
    </div>
  );
}
