// Every policy of the pack, as plain objects. The pack's entry (index.ts) only assembles them;
// tests, the offline plan and `npm run check` use this list directly.
import { Policies } from "@pulumi/policy";
import { airbyteAuthOn } from "./airbyte-auth-on";
import { chartValuesKnown } from "./chart-values-known";
import { chartVersionPinned } from "./chart-version-pinned";
import { componentNamespace } from "./component-namespace";
import { configurationReadable } from "./configuration-readable";
import { crossNamespaceFqdn } from "./cross-namespace-fqdn";
import { fqdnResolves } from "./fqdn-resolves";
import { imageTagPinned } from "./image-tag-pinned";
import { loginProxyClosed } from "./login-proxy-closed";
import { networkPolicyCoverage } from "./network-policy-coverage";
import { noIpEndpoints } from "./no-ip-endpoints";
import { noPlaintextCredentials } from "./no-plaintext-credentials";
import { postgresClientsVerify } from "./postgres-clients-verify";
import { serversUseTls } from "./servers-use-tls";
import { trinoClientsAuthenticate } from "./trino-clients-authenticate";

export const POLICY_PACK_NAME = "lakehouse-platform";

export const POLICIES: Policies = [
    crossNamespaceFqdn,
    fqdnResolves,
    noIpEndpoints,
    noPlaintextCredentials,
    configurationReadable,
    componentNamespace,
    networkPolicyCoverage,
    chartVersionPinned,
    chartValuesKnown,
    imageTagPinned,
    trinoClientsAuthenticate,
    postgresClientsVerify,
    airbyteAuthOn,
    loginProxyClosed,
    serversUseTls,
];
