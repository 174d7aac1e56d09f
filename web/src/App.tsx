/**
 * The dashboard shell: loads the chain config, holds the connected wallet and the signed-in session, and routes on
 * the URL hash (#/token, #/account, #/usage, #/teams, #/operator) so the gateway's own paths never collide with pages.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { PublicClient } from 'viem';
import {
  connectDevelopmentWallet,
  connectInjectedWallet,
  hasInjectedWallet,
  publicClientOf,
  type Wallet,
} from './chain.ts';
import { Card, ErrorNote, Loading } from './components/ui.tsx';
import { type Contracts, type DashboardConfig, loadConfig } from './config.ts';
import { shortAddress } from './format.ts';
import { useAsync } from './hooks.ts';
import { AccountPage } from './pages/AccountPage.tsx';
import { OperatorPage } from './pages/OperatorPage.tsx';
import { TeamsPage } from './pages/TeamsPage.tsx';
import { TokenPage } from './pages/TokenPage.tsx';
import { UsagePage } from './pages/UsagePage.tsx';
import { type Session, signIn, signOut, storedSession } from './session.ts';

const pages = [
  { id: 'token', title: 'Tokens' },
  { id: 'account', title: 'Account' },
  { id: 'usage', title: 'Usage' },
  { id: 'teams', title: 'Teams' },
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
    <WalletBar
      wallet={wallet}
      session={session}
      signingIn={signingIn}
      onSignIn={doSignIn}
      onSignOut={doSignOut}
      onDisconnect={disconnect}
    />
  ) : null;

  if (!chain || !client) {
    return <ErrorNote error={new Error('this gateway serves the dashboard without a chain configuration')} />;
  }
  if (!wallet) {
    return <ConnectCard config={config} chainId={chain.chainId} connect={connect} connectError={connectError} />;
  }

  return (
    <>
      {walletBar}
      {connectError && <ErrorNote error={connectError} />}
      <PageBody
        page={page}
        wallet={wallet}
        client={client}
        contracts={chain.contracts}
        session={session}
        onSignIn={doSignIn}
        signingIn={signingIn}
      />
    </>
  );
}

/** The page a connected wallet sees. */
function PageBody(props: {
  page: PageId;
  wallet: Wallet;
  client: PublicClient;
  contracts: Contracts;
  session: Session | null;
  onSignIn: () => void;
  signingIn: boolean;
}) {
  const { page, wallet, client, contracts, session, signingIn } = props;
  const doSignIn = props.onSignIn;
  const chain = { contracts };
  return (
    <>
      {page === 'token' && <TokenPage wallet={wallet} client={client} contracts={chain.contracts} />}
      {page === 'account' && <AccountPage session={session} onSignIn={doSignIn} signingIn={signingIn} />}
      {page === 'usage' && <UsagePage session={session} onSignIn={doSignIn} signingIn={signingIn} />}
      {page === 'teams' && (
        <TeamsPage
          session={session}
          onSignIn={doSignIn}
          signingIn={signingIn}
          client={client}
          contracts={chain.contracts}
        />
      )}
    </>
  );
}

/** The connected wallet, its kind, and signing in and out. */
function WalletBar(props: {
  wallet: Wallet;
  session: Session | null;
  signingIn: boolean;
  onSignIn: () => void;
  onSignOut: () => void;
  onDisconnect: () => void;
}) {
  const { wallet, session, signingIn, onSignIn, onSignOut, onDisconnect } = props;
  return (
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
        <button type="button" className="small" onClick={onSignIn} disabled={signingIn} data-testid="sign-in">
          {signingIn ? 'Signing in…' : 'Sign in with Ethereum'}
        </button>
      )}
      {session && (
        <button type="button" className="small ghost" onClick={onSignOut}>
          Sign out
        </button>
      )}
      <button type="button" className="small ghost" onClick={onDisconnect}>
        Disconnect
      </button>
    </div>
  );
}

/** No wallet yet: a browser wallet, or on a local chain the development wallet. */
function ConnectCard(props: {
  config: DashboardConfig;
  chainId: number;
  connect: (kind: Wallet['kind']) => void;
  connectError: Error | null;
}) {
  const { config, connect, connectError } = props;
  const chain = { chainId: props.chainId };
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
              <span className="badge warn">development only</span> The demo wallet from <code>perdiem up</code> on this
              local chain ({shortAddress(config.devWallet.address)}). Its key is not a secret.
            </span>
          </div>
        )}
      </div>
      {connectError && <ErrorNote error={connectError} />}
    </Card>
  );
}
