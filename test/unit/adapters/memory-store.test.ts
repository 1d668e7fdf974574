import { MemoryStore } from "../../../lambdas/adapters/memory/memory-store.ts";
import { describeProbeStoreContract } from "./probe-store-contract.ts";

describeProbeStoreContract("MemoryStore", async () => new MemoryStore());
