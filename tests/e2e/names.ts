// Cluster names on one machine: every `<service>.<namespace>.svc.<domain>` the stack publishes,
// and the Garage pods its bootstrap reaches, each on a loopback address of its own (all of
// 127.0.0.0/8 is loopback), written into a hosts file that the suite's processes see in place of
// /etc/hosts (a private mount namespace). Short names are in no file and no DNS: they resolve to
// nothing, as they do from another namespace.
import * as fs from "fs";
import { PlatformRun } from "./platform";

export interface NameTable {
    /** FQDN → loopback address. */
    addresses: Map<string, string>;
    /** The hosts file the suite's processes use. */
    hostsFile: string;
}

interface AddressEntry {
    host: string;
    service: string;
    namespace: string;
}

/** The names of a stack: its services (outputs.addresses) and Garage's pods (`garage-<i>` behind the headless Service). */
export function clusterNames(p: PlatformRun): string[] {
    const services = Object.values(p.detail<Record<string, AddressEntry>>("addresses"));
    const names = services.map((s) => s.host);
    const s3 = services.find((s) => s.service === "garage");
    if (s3) {
        const replicas = p.replicas("StatefulSet", s3.namespace, "garage");
        const domain = s3.host.split(".svc.")[1];
        for (let i = 0; i < replicas; i++) names.push(`garage-${i}.garage-headless.${s3.namespace}.svc.${domain}`);
    }
    return [...new Set(names)];
}

/** Loopback addresses 127.0.1.10, 127.0.1.11, ... in the order of `names`. */
export function allocate(names: string[], base = 10): Map<string, string> {
    if (names.length + base > 250) throw new Error(`too many names for 127.0.1.0/24: ${names.length}`);
    return new Map(names.map((n, i) => [n, `127.0.1.${base + i}`]));
}

/** The machine's hosts file (localhost, its own name) with the cluster's names added. */
export function writeHostsFile(file: string, addresses: Map<string, string>, original = "/etc/hosts"): NameTable {
    const base = fs.existsSync(original) ? fs.readFileSync(original, "utf8").trimEnd() : "127.0.0.1 localhost";
    const lines = [...addresses].map(([host, ip]) => `${ip}\t${host}`);
    fs.writeFileSync(
        file,
        `${base}\n\n# lakehouse-platform end-to-end suite: cluster names on loopback\n${lines.join("\n")}\n`,
    );
    return { addresses, hostsFile: file };
}

export function addressOf(table: Map<string, string>, host: string): string {
    const a = table.get(host);
    if (!a) throw new Error(`${host} has no address: it is not a name the stack publishes`);
    return a;
}
