// Settings: a new password. The server checks the current one and signs out the account's
// other sessions; this one stays signed in.
import { type FormEvent, useRef, useState } from 'react';
import { ApiError, api } from '../api/client';
import { useAnnounce } from '../lib/announcer';
import { MIN_PASSWORD_LENGTH, validatePassword } from '../lib/validation';
import { Field } from './Field';

interface Errors {
  current?: string;
  next?: string;
  confirm?: string;
  form?: string;
}

function check(current: string, next: string, confirm: string): Errors {
  if (!current) return { current: 'Enter your current password.' };
  if (!next) return { next: 'Enter a new password.' };
  const weak = validatePassword(next, true);
  if (weak) return { next: weak };
  if (next === current) return { next: 'Choose a password other than the current one.' };
  if (confirm !== next) return { confirm: 'The passwords do not match.' };
  return {};
}

export function ChangePasswordForm() {
  const announce = useAnnounce();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [saving, setSaving] = useState(false);
  const [changed, setChanged] = useState(false);
  const currentRef = useRef<HTMLInputElement>(null);
  const nextRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);

  const edit = (set: (value: string) => void) => (value: string) => {
    set(value);
    setErrors({});
    setChanged(false);
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const found = check(current, next, confirm);
    setErrors(found);
    if (found.current) return currentRef.current?.focus();
    if (found.next) return nextRef.current?.focus();
    if (found.confirm) return confirmRef.current?.focus();
    setSaving(true);
    try {
      await api.changePassword(current, next);
      setCurrent('');
      setNext('');
      setConfirm('');
      setChanged(true);
      announce('Password changed.');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'wrong_password') {
        setErrors({ current: 'That is not your current password.' });
        currentRef.current?.focus();
      } else if (error instanceof ApiError && error.status === 429) {
        setErrors({ form: 'Too many wrong passwords. Please wait a minute and try again.' });
      } else {
        setErrors({ form: error instanceof ApiError ? error.message : 'Could not change the password.' });
      }
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="stack-form" onSubmit={onSubmit} noValidate aria-labelledby="password-title">
      <Field
        label="Current password"
        type="password"
        value={current}
        error={errors.current}
        autoComplete="current-password"
        onChange={edit(setCurrent)}
        inputRef={currentRef}
      />
      <Field
        label="New password"
        type="password"
        value={next}
        error={errors.next}
        hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
        autoComplete="new-password"
        onChange={edit(setNext)}
        inputRef={nextRef}
      />
      <Field
        label="Confirm new password"
        type="password"
        value={confirm}
        error={errors.confirm}
        autoComplete="new-password"
        onChange={edit(setConfirm)}
        inputRef={confirmRef}
      />
      {errors.form && (
        <div className="alert error" role="alert">
          {errors.form}
        </div>
      )}
      {changed && (
        <div className="alert success" role="status">
          Password changed. Anywhere else you were logged in with it, you are now logged out.
        </div>
      )}
      <div>
        <button type="submit" className="button primary" disabled={saving}>
          {saving ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}
