// Imported first by the pack's entry (policies/index.ts), before the SDK: see ./sdk-load.ts.
import { deferArborist } from "./sdk-load";

deferArborist();
