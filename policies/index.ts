// The CrossGuard policy pack: `pulumi preview --policy-pack policies`. Constructing the PolicyPack
// starts its gRPC server, so nothing imports this file; everything else uses ./policies.
// First, before @pulumi/policy loads the SDK: the SDK's npm Arborist, unused here, loads on first use.
import "./lib/lean-start";
import { PolicyPack } from "@pulumi/policy";
import { POLICIES, POLICY_PACK_NAME } from "./policies";

new PolicyPack(POLICY_PACK_NAME, { policies: POLICIES });
