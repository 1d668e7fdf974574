import { MemoryStore } from "../../../../local/adapters/memory-store.ts";
import { describeProbeStoreContract } from "../../../support/probe-store-contract.ts";

describeProbeStoreContract("MemoryStore", async () => new MemoryStore());
