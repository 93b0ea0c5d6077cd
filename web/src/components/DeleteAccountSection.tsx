// Settings: deleting the account, with its photos and tokens, once the password confirms it.
import { type FormEvent, useState } from 'react';
import { ApiError } from '../api/client';
import { useAnnounce } from '../lib/announcer';
import { useAuth } from '../lib/auth';
import { navigate } from '../lib/router';
import { Dialog } from './Dialog';
import { Field } from './Field';

export function DeleteAccountSection() {
  const { deleteAccount } = useAuth();
  const announce = useAnnounce();
  const [asking, setAsking] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [deleting, setDeleting] = useState(false);

  const close = () => {
    if (deleting) return;
    setAsking(false);
    setPassword('');
    setError('');
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
      if (e instanceof ApiError && e.code === 'wrong_password') setError('That is not your password.');
      else if (e instanceof ApiError && e.status === 429) {
        setError('Too many wrong passwords. Please wait a minute and try again.');
      } else setError(e instanceof ApiError ? e.message : 'Could not delete the account.');
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
            <Field
              label="Password"
              type="password"
              value={password}
              error={error}
              autoComplete="current-password"
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
