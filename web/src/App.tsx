/**
 * The dashboard shell: loads the chain config, holds the connected wallet and the signed-in session, and routes on
 * the URL hash (#/token, #/account, #/usage, #/operator) so the gateway's own paths never collide with pages.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  connectDevelopmentWallet,
  connectInjectedWallet,
  hasInjectedWallet,
  publicClientOf,
  type Wallet,
} from './chain.ts';
import { Card, ErrorNote, Loading } from './components/ui.tsx';
import { type DashboardConfig, loadConfig } from './config.ts';
import { shortAddress } from './format.ts';
import { useAsync } from './hooks.ts';
import { AccountPage } from './pages/AccountPage.tsx';
import { OperatorPage } from './pages/OperatorPage.tsx';
import { TokenPage } from './pages/TokenPage.tsx';
import { UsagePage } from './pages/UsagePage.tsx';
import { type Session, signIn, signOut, storedSession } from './session.ts';

const pages = [
  { id: 'token', title: 'Tokens' },
  { id: 'account', title: 'Account' },
  { id: 'usage', title: 'Usage' },
  { id: 'operator', title: 'Operator' },
] as const;
type PageId = (typeof pages)[number]['id'];

function pageFromHash(): PageId {
  const id = window.location.hash.replace(/^#\/?/, '');
  return pages.find((page) => page.id === id)?.id ?? 'token';
}

export function App() {
  const config = useAsync(loadConfig, []);
  const [page, setPage] = useState<PageId>(pageFromHash);
  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/token">
          per<span>diem</span>
        </a>
        <nav className="nav" aria-label="Pages">
          {pages.map((p) => (
            <a
              key={p.id}
              href={`#/${p.id}`}
              className={p.id === page ? 'active' : ''}
              aria-current={p.id === page ? 'page' : undefined}
            >
              {p.title}
            </a>
          ))}
        </nav>
      </header>
      <main className="content">
        {config.data ? (
          <Connected config={config.data} page={page} />
        ) : config.error ? (
          <ErrorNote error={config.error} retry={config.reload} />
        ) : (
          <Loading what="the dashboard" />
        )}
      </main>
    </div>
  );
}

function Connected({ config, page }: { config: DashboardConfig; page: PageId }) {
  const chain = config.chain;
  const client = useMemo(() => (chain ? publicClientOf(chain) : null), [chain]);
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [connectError, setConnectError] = useState<Error | null>(null);
  const [signingIn, setSigningIn] = useState(false);

  const connect = useCallback(
    async (kind: Wallet['kind']) => {
      setConnectError(null);
      try {
        const connected =
          kind === 'development' ? connectDevelopmentWallet(config) : await connectInjectedWallet(config.chain!);
        setWallet(connected);
        setSession(storedSession(connected.address));
      } catch (error) {
        setConnectError(error as Error);
      }
    },
    [config],
  );
  const disconnect = useCallback(() => {
    setWallet(null);
    setSession(null);
  }, []);
  // A browser wallet that switches account or chain is a different wallet: start over.
  useEffect(() => {
    const provider = window.ethereum;
    if (wallet?.kind !== 'injected' || !provider?.on) return;
    provider.on('accountsChanged', disconnect);
    provider.on('chainChanged', disconnect);
    return () => {
      provider.removeListener?.('accountsChanged', disconnect);
      provider.removeListener?.('chainChanged', disconnect);
    };
  }, [wallet, disconnect]);
  const doSignIn = useCallback(async () => {
    if (!wallet) return;
    setSigningIn(true);
    setConnectError(null);
    try {
      setSession(await signIn(wallet));
    } catch (error) {
      setConnectError(error as Error);
    } finally {
      setSigningIn(false);
    }
  }, [wallet]);
  const doSignOut = useCallback(async () => {
    if (session) await signOut(session);
    setSession(null);
  }, [session]);

  if (page === 'operator') return <OperatorPage config={config} client={client} />;

  const walletBar = wallet ? (
    <div className="wallet-bar" data-testid="wallet-bar">
      <span className="address" title={wallet.address}>
        {shortAddress(wallet.address)}
      </span>
      {wallet.kind === 'development' ? (
        <span className="badge warn" title="A key written to disk by `perdiem up`; never use it on a real chain.">
          development wallet
        </span>
      ) : (
        <span className="badge">browser wallet</span>
      )}
      {session ? (
        <span className="badge ok" data-testid="signed-in">
          signed in
        </span>
      ) : (
        <button type="button" className="small" onClick={doSignIn} disabled={signingIn} data-testid="sign-in">
          {signingIn ? 'Signing in…' : 'Sign in with Ethereum'}
        </button>
      )}
      {session && (
        <button type="button" className="small ghost" onClick={doSignOut}>
          Sign out
        </button>
      )}
      <button type="button" className="small ghost" onClick={disconnect}>
        Disconnect
      </button>
    </div>
  ) : null;

  if (!chain || !client) {
    return <ErrorNote error={new Error('this gateway serves the dashboard without a chain configuration')} />;
  }
  if (!wallet) {
    return (
      <Card title="Connect a wallet" className="connect">
        <p className="muted">
          The dashboard reads your positions from chain {chain.chainId} and signs transactions with your wallet.
        </p>
        <div className="connect-options">
          <button
            type="button"
            onClick={() => connect('injected')}
            disabled={!hasInjectedWallet()}
            data-testid="connect-injected"
          >
            Browser wallet
          </button>
          {!hasInjectedWallet() && <span className="muted small-text">No browser wallet extension found.</span>}
          {config.devWallet && (
            <div className="dev-wallet-option">
              <button type="button" className="warn" onClick={() => connect('development')} data-testid="connect-dev">
                Development wallet
              </button>
              <span className="small-text">
                <span className="badge warn">development only</span> The demo wallet from <code>perdiem up</code> on
                this local chain ({shortAddress(config.devWallet.address)}). Its key is not a secret.
              </span>
            </div>
          )}
        </div>
        {connectError && <ErrorNote error={connectError} />}
      </Card>
    );
  }

  return (
    <>
      {walletBar}
      {connectError && <ErrorNote error={connectError} />}
      {page === 'token' && <TokenPage wallet={wallet} client={client} contracts={chain.contracts} />}
      {page === 'account' && <AccountPage session={session} onSignIn={doSignIn} signingIn={signingIn} />}
      {page === 'usage' && <UsagePage session={session} onSignIn={doSignIn} signingIn={signingIn} />}
    </>
  );
}
