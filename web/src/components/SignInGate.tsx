import type { ReactNode } from 'react';
import type { Session } from '../session.ts';
import { Card } from './ui.tsx';

/** Account pages need a key for the wallet's account: sign in with Ethereum first. */
export function SignInGate({
  session,
  onSignIn,
  signingIn,
  children,
}: {
  session: Session | null;
  onSignIn: () => void;
  signingIn: boolean;
  children: (session: Session) => ReactNode;
}) {
  if (session) return <>{children(session)}</>;
  return (
    <Card title="Sign in to see your account">
      <p className="muted">
        Signing a message (SIWE) proves you hold this wallet; the gateway links it to an account and gives this tab a
        key that expires in a day. It needs an sVVV stake.
      </p>
      <button type="button" onClick={onSignIn} disabled={signingIn} data-testid="sign-in-gate">
        {signingIn ? 'Signing in…' : 'Sign in with Ethereum'}
      </button>
    </Card>
  );
}
