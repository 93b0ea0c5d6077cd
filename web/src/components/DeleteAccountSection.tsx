// Settings: deleting the account, with its photos and tokens, once the password confirms it.
import { type FormEvent, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { useAnnounce } from '../lib/announcer';
import { useAuth } from '../lib/auth';
import { asSentence } from '../lib/format';
import { navigate } from '../lib/router';
import { Dialog } from './Dialog';
import { Field } from './Field';

export function DeleteAccountSection() {
  const { deleteAccount } = useAuth();
  const announce = useAnnounce();
  const [asking, setAsking] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  // A refusal that is not about the password (the only administrator may not go).
  const [refusal, setRefusal] = useState('');
  const [deleting, setDeleting] = useState(false);
  const passwordInput = useRef<HTMLInputElement>(null);

  const close = () => {
    if (deleting) return;
    setAsking(false);
    setPassword('');
    setError('');
    setRefusal('');
  };

  const refuse = (message: string, aboutPassword: boolean) => {
    (aboutPassword ? setError : setRefusal)(message);
    // A refusal is an alert, which is read out; a field's error is not.
    if (aboutPassword) announce(message);
    // The button that had the focus was disabled while deleting, which sent the focus out of
    // the dialog to the page behind it.
    passwordInput.current?.focus();
  };

  const onDelete = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!password) {
      setError('Enter your password to confirm.');
      return;
    }
    setDeleting(true);
    try {
      await deleteAccount(password);
      announce('Your account was deleted.');
      navigate('/', { replace: true });
    } catch (e) {
      setDeleting(false);
      if (e instanceof ApiError && e.code === 'wrong_password') refuse('That is not your password.', true);
      else if (e instanceof ApiError && e.status === 429) {
        refuse('Too many wrong passwords. Please wait a minute and try again.', true);
      } else if (e instanceof ApiError && e.status === 409) refuse(asSentence(e.message), false);
      else refuse(e instanceof ApiError ? e.message : 'Could not delete the account.', false);
    }
  };

  return (
    <>
      <p className="muted">
        Deletes your account, every photo in your gallery and your API tokens, and logs you out everywhere. This cannot
        be undone.
      </p>
      <button type="button" className="button danger" onClick={() => setAsking(true)}>
        Delete account…
      </button>
      {asking && (
        <Dialog
          title="Delete your account?"
          onClose={close}
          actions={
            <>
              <button type="button" className="button ghost" onClick={close} disabled={deleting}>
                Cancel
              </button>
              <button type="submit" form="delete-account-form" className="button danger" disabled={deleting}>
                {deleting ? 'Deleting…' : 'Delete account'}
              </button>
            </>
          }
        >
          <form id="delete-account-form" onSubmit={onDelete} noValidate>
            <p>Your photos, results and API tokens will be gone for good.</p>
            {refusal && (
              <div className="alert error" role="alert">
                {refusal}
              </div>
            )}
            <Field
              label="Password"
              type="password"
              value={password}
              error={error}
              autoComplete="current-password"
              inputRef={passwordInput}
              onChange={(value) => {
                setPassword(value);
                setError('');
              }}
            />
          </form>
        </Dialog>
      )}
    </>
  );
}
