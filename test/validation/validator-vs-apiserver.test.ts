// Differential: whatever the API server (with our CRDs and their CEL rules) refuses, `validate` refuses too, and
// `validate` refuses no agent configuration the agent would take (its rules are the reference). validate may refuse
// more than the server (the condition grammar, the agent's defaults under a setting the resource does not set); a
// document the server refuses and we pass is a bug in the CRD or in the validator.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { agentSettingsOf } from '../../src/profiles/security-agent/index.js';
import { validateResource } from '../../src/validation/validate-resource.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import {
  apiMessage,
  customObjects,
  EXAMPLES,
  GROUP,
  httpStatusOf,
  installCrds,
  VERSION,
} from '../support/kube.js';
import {
  agentErrors,
  edgeAgentConfiguration,
  iotHubArb,
  mutated,
  securityModuleConfigArb,
  twinConfigArb,
} from '../support/resource-arbitraries.js';
import { validIotHub, validSecurityModuleConfig, validTwinConfig } from '../support/resources.js';

const cp = await sharedControlPlane();
const api = customObjects(cp.kubeconfig);

interface Verdict {
  accepted: boolean;
  message: string;
}

const PLURALS: Record<string, string> = {
  IoTHub: 'iothubs',
  SecurityModuleConfig: 'securitymoduleconfigs',
  TwinConfig: 'twinconfigs',
};

async function serverVerdict(document: Record<string, any>): Promise<Verdict> {
  const plural = PLURALS[document.kind];
  try {
    await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: document.metadata.namespace,
      plural,
      body: document,
      dryRun: 'All',
      fieldValidation: 'Strict',
    });
    return { accepted: true, message: '' };
  } catch (error) {
    const status = httpStatusOf(error);
    // 422 Invalid and 400 BadRequest (strict decoding) are verdicts; anything else is a broken test run.
    if (status !== 422 && status !== 400) throw error;
    return { accepted: false, message: apiMessage(error) };
  }
}

function ourVerdict(document: Record<string, any>): Verdict {
  const errors = validateResource(structuredClone(document)).issues.filter((i) => i.severity === 'error');
  return {
    accepted: errors.length === 0,
    message: errors.map((e) => `${e.path.join('.')}: ${e.message}`).join('; '),
  };
}

describe('validate refuses everything the API server refuses', () => {
  let namespace: string;
  before(async () => {
    await installCrds(cp);
    namespace = await testNamespace(cp, 'differential');
  });

  async function compare(documents: Record<string, any>[]): Promise<{ refusedByServer: number }> {
    const disagreements: string[] = [];
    let refusedByServer = 0;
    for (const document of documents) {
      const server = await serverVerdict(document);
      if (server.accepted) continue;
      refusedByServer++;
      const ours = ourVerdict(document);
      if (ours.accepted)
        disagreements.push(
          `server refused, validate passed: ${JSON.stringify(document)}\n  server: ${server.message}`,
        );
    }
    assert.deepEqual(disagreements, []);
    return { refusedByServer };
  }

  it('agrees on examples/ and the test fixtures', async () => {
    const documents = readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) =>
        parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8'), { version: '1.1' }).map((d) => d.toJS()),
      )
      .filter((d) => d.apiVersion === `${GROUP}/${VERSION}`);
    const fixtures = [
      validSecurityModuleConfig(),
      validSecurityModuleConfig({ target: { deviceIds: ['d1', 'd2'] }, priority: 5 }),
      validSecurityModuleConfig({ rollout: { batchSize: 10, failureThreshold: '5%' } }),
      validIotHub(),
      validIotHub({ tier: 'S3', units: 10, caSecretRef: { name: 'ca' } }),
      validTwinConfig(),
      validTwinConfig({ twin: { moduleId: 'thermostat-agent', createModule: true }, convergence: 'Mirror' }),
      validTwinConfig({ twin: { component: 'thermostat1' }, target: { deviceIds: ['pnp-000001'] } }),
    ];
    const all = [...documents, ...fixtures].map((d) => ({ ...d, metadata: { ...d.metadata, namespace } }));
    for (const document of all)
      assert.ok((await serverVerdict(document)).accepted, `server takes ${document.metadata.name}`);
    await compare(all);
  });

  it('has a generator of valid resources the server takes, every one (the mutations start from them)', async () => {
    const documents = fc.sample(fc.oneof(securityModuleConfigArb(namespace), iotHubArb(namespace)), {
      numRuns: 120,
      seed: 8,
    });
    for (const document of documents) {
      const server = await serverVerdict(document);
      assert.ok(
        server.accepted,
        `generated valid, refused by the server: ${server.message}\n${JSON.stringify(document)}`,
      );
    }
  });

  it('has a generator of valid TwinConfigs the server takes, every one', async () => {
    for (const document of fc.sample(twinConfigArb(namespace), { numRuns: 80, seed: 18 })) {
      const server = await serverVerdict(document);
      assert.ok(
        server.accepted,
        `generated valid, refused by the server: ${server.message}\n${JSON.stringify(document)}`,
      );
    }
  });

  it('agrees on mutated TwinConfigs: every one the server refuses, validate refuses', async () => {
    const documents = fc.sample(mutated(twinConfigArb(namespace)), { numRuns: 200, seed: 19 });
    const { refusedByServer } = await compare(documents);
    // Mutations inside properties and an inline schema are any JSON to the server: fewer are refused than for the
    // other kinds, but still many, or the generator lost its teeth.
    assert.ok(
      refusedByServer > documents.length / 4,
      `only ${refusedByServer} of ${documents.length} refused`,
    );
    console.log(
      `differential: ${documents.length} mutated TwinConfigs, ${refusedByServer} refused by the server, all refused by validate`,
    );
  });

  it('agrees on mutated resources: every one the server refuses, validate refuses', async () => {
    const documents = fc.sample(
      fc.oneof(mutated(securityModuleConfigArb(namespace)), mutated(iotHubArb(namespace))),
      { numRuns: 300, seed: 9 },
    );
    const { refusedByServer } = await compare(documents);
    // The mutations are meant to break things: most must be refused, or the generator lost its teeth.
    assert.ok(
      refusedByServer > documents.length / 2,
      `only ${refusedByServer} of ${documents.length} refused`,
    );
    console.log(
      `differential: ${documents.length} mutated resources, ${refusedByServer} refused by the server, all refused by validate`,
    );
  });

  it('agrees on mutated IoTHubs of every credential kind: every one the server refuses (its CEL rules for spec.auth included), validate refuses', async () => {
    const documents = fc.sample(mutated(iotHubArb(namespace)), { numRuns: 200, seed: 21 });
    const entra = documents.filter((d) => d.spec?.auth !== undefined).length;
    const { refusedByServer } = await compare(documents);
    assert.ok(entra > documents.length / 3, `only ${entra} of ${documents.length} with spec.auth`);
    // And the other way: what validate refuses about the credential (one resource alone decides it) the server
    // refuses at apply, through the CRD's CEL rules.
    const credential = /^spec\.(auth|hostName|connectionStringSecretRef)\b/;
    const laxer: string[] = [];
    let refusedForCredential = 0;
    for (const document of documents) {
      const ours = ourVerdict(document);
      if (ours.accepted || !ours.message.split('; ').every((m) => credential.test(m))) continue;
      refusedForCredential++;
      if ((await serverVerdict(document)).accepted)
        laxer.push(
          `validate refused, the server took: ${JSON.stringify(document.spec)}\n  validate: ${ours.message}`,
        );
    }
    assert.deepEqual(laxer, []);
    assert.ok(refusedForCredential >= 20, `only ${refusedForCredential} refused for the credential alone`);
    assert.ok(
      refusedByServer > documents.length / 2,
      `only ${refusedByServer} of ${documents.length} refused`,
    );
    console.log(
      `differential: ${documents.length} mutated IoTHubs (${entra} through Microsoft Entra ID), ${refusedByServer} refused by the server, all refused by validate; ${refusedForCredential} refused by validate for the credential alone, all refused by the server`,
    );
  });

  it('agrees with the agent on settings near its limits: the server refuses only what validate refuses, validate only what the agent refuses, in the same words', async () => {
    const configurations = fc.sample(edgeAgentConfiguration, { numRuns: 250, seed: 20 });
    const disagreements: string[] = [];
    let refusedByServer = 0;
    let sameWords = 0;
    for (const [index, agentConfiguration] of configurations.entries()) {
      const document = {
        ...validSecurityModuleConfig({ agentConfiguration }),
        metadata: { name: `edge-${index}`, namespace },
      };
      const server = await serverVerdict(document);
      const ours = validateResource(structuredClone(document)).issues.filter((i) => i.severity === 'error');
      const agent = agentErrors(agentSettingsOf(agentConfiguration as never));
      const shown = JSON.stringify(agentConfiguration);
      if (!server.accepted) {
        refusedByServer++;
        if (ours.length === 0)
          disagreements.push(`server refused, validate passed: ${shown}\n  ${server.message}`);
        const said = ours.filter((issue) => server.message.includes(issue.message));
        if (said.length === 0)
          disagreements.push(
            `server and validate word it differently: ${shown}\n  server: ${server.message}`,
          );
        sameWords += said.length;
      }
      if (ours.length > 0 && agent.length === 0)
        disagreements.push(`validate refused what the agent takes: ${shown}: ${ours.map((i) => i.message)}`);
    }
    assert.deepEqual(disagreements, []);
    assert.ok(refusedByServer > configurations.length / 4, `only ${refusedByServer} refused by the server`);
    console.log(
      `differential: ${configurations.length} agent configurations near the limits, ${refusedByServer} refused by the server (${sameWords} messages word for word in validate's), none refused by validate that the agent takes`,
    );
  });
});
