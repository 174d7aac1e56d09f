/**
 * Teams: the signed-in account's organizations, each as a tree of budgets with what was spent against them this
 * period (edited in place), moving budget between projects, the budget alerts with their webhook deliveries, and the
 * treasury wallets whose on-chain allowance funds the organization.
 */
import { type FormEvent, useState } from 'react';
import type { PublicClient } from 'viem';
import { SignInGate } from '../components/SignInGate.tsx';
import { Async, Card, Empty, ErrorNote } from '../components/ui.tsx';
import type { Contracts } from '../config.ts';
import { useAsync } from '../hooks.ts';
import type { Session } from '../session.ts';
import { createOrg, createProject, listAlerts, listOrgs, type OrgView, orgTree } from '../teams.ts';
import { BudgetTree } from './teams/BudgetTree.tsx';
import { AlertList, Reallocate, TreasuryWallets } from './teams/TeamPanels.tsx';

interface Props {
  session: Session | null;
  onSignIn: () => void;
  signingIn: boolean;
  client: PublicClient;
  contracts: Contracts;
}

export function TeamsPage(props: Props) {
  return (
    <SignInGate {...props}>
      {(session) => <Teams bearer={session.apiKey} client={props.client} contracts={props.contracts} />}
    </SignInGate>
  );
}

/** A one-field form: the name of a new organization or project. */
function NameForm(props: { label: string; testId: string; onSubmit: (name: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await props.onSubmit(name.trim());
      setName('');
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <form className="row" onSubmit={(event) => void submit(event)}>
      <input
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="name"
        maxLength={128}
        data-testid={`${props.testId}-name`}
      />
      <button type="submit" className="small" disabled={name.trim() === ''} data-testid={props.testId}>
        {props.label}
      </button>
      {error && <ErrorNote error={error} />}
    </form>
  );
}

function Teams({ bearer, client, contracts }: { bearer: string; client: PublicClient; contracts: Contracts }) {
  const orgs = useAsync(() => listOrgs(bearer), [bearer]);
  const [chosen, setChosen] = useState<string | null>(null);
  return (
    <div className="page teams-page">
      <Card title="Organizations">
        <Async state={orgs} what="your organizations">
          {(list) => (
            <>
              {list.length === 0 && <Empty>You belong to no organization yet.</Empty>}
              {list.length > 0 && (
                <select
                  value={chosen ?? list[0]!.id}
                  onChange={(e) => setChosen(e.target.value)}
                  aria-label="Organization"
                  data-testid="org-select"
                >
                  {list.map((org) => (
                    <option key={org.id} value={org.id}>
                      {org.name}
                    </option>
                  ))}
                </select>
              )}
              <NameForm
                label="Create organization"
                testId="org-create"
                onSubmit={async (name) => {
                  const created = await createOrg(bearer, name);
                  setChosen(created.id);
                  await orgs.reload();
                }}
              />
            </>
          )}
        </Async>
      </Card>
      {orgs.data && orgs.data.length > 0 && (
        <Organization
          bearer={bearer}
          org={orgs.data.find((org) => org.id === chosen) ?? orgs.data[0]!}
          client={client}
          contracts={contracts}
        />
      )}
    </div>
  );
}

function Organization(props: { bearer: string; org: OrgView; client: PublicClient; contracts: Contracts }) {
  const { bearer, org } = props;
  const tree = useAsync(() => orgTree(bearer, org.id), [bearer, org.id], 10_000);
  const alerts = useAsync(() => listAlerts(bearer, org.id), [bearer, org.id], 10_000);
  const changed = () => {
    void tree.reload();
    void alerts.reload();
  };
  return (
    <Async state={tree} what="the organization">
      {(data) => (
        <div className="grid two">
          <Card title="Budgets this period">
            <BudgetTree tree={data} bearer={bearer} onChanged={changed} />
            <NameForm
              label="Create project"
              testId="project-create"
              onSubmit={async (name) => {
                await createProject(bearer, org.id, name);
                changed();
              }}
            />
          </Card>
          <div className="stack">
            <Card title="Move budget between projects">
              <Reallocate tree={data} bearer={bearer} onMoved={changed} />
            </Card>
            <Card title="Alerts">
              <Async state={alerts} what="the alerts">
                {(list) => <AlertList alerts={list} tree={data} />}
              </Async>
            </Card>
            <Card title="Treasury wallets on chain">
              <TreasuryWallets bearer={bearer} orgId={org.id} client={props.client} contracts={props.contracts} />
            </Card>
          </div>
        </div>
      )}
    </Async>
  );
}
