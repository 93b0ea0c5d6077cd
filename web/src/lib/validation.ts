// Client-side checks mirror the server's (400 invalid_argument): email must contain one @,
// password at least 8 characters (code points, as the server counts them). The server stays
// the authority.
export const MIN_PASSWORD_LENGTH = 8;

export interface Credentials {
  email: string;
  password: string;
  confirm?: string;
}

export type FieldErrors = Partial<Record<keyof Credentials, string>>;

export function validateEmail(email: string): string | undefined {
  const value = email.trim();
  if (!value) return 'Enter your email address.';
  const at = value.indexOf('@');
  if (at <= 0 || at === value.length - 1 || value.includes('@', at + 1)) {
    return 'Enter an email address like name@example.com.';
  }
  if (/\s/.test(value)) return 'An email address cannot contain spaces.';
  return undefined;
}

export function validatePassword(password: string, forSignup: boolean): string | undefined {
  if (!password) return 'Enter your password.';
  if (forSignup && [...password].length < MIN_PASSWORD_LENGTH) {
    return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  }
  return undefined;
}

export function validateCredentials(values: Credentials, mode: 'login' | 'signup'): FieldErrors {
  const errors: FieldErrors = {};
  const email = validateEmail(values.email);
  if (email) errors.email = email;
  const password = validatePassword(values.password, mode === 'signup');
  if (password) errors.password = password;
  if (mode === 'signup' && !errors.password && values.confirm !== values.password) {
    errors.confirm = 'The passwords do not match.';
  }
  return errors;
}
