// Types for the two ssh2 protocol internals the agent reaches: the kex registry our patch adds
// (scripts/patch-ssh2.mjs) and KexInit, the algorithm offer a connection sends.
declare module "ssh2/lib/protocol/constants.js" {
  export function registerKexExtension(name: string, ext: import("./kex-mlkem768x25519.ts").KexExtension): void;
}
declare module "ssh2/lib/protocol/kex.js" {
  interface NameList { array: string[] }
  export class KexInit {
    constructor(lists: {
      kex: string[];
      serverHostKey: string[];
      cs: { cipher: string[]; mac: string[]; compress: string[]; lang: string[] };
      sc: { cipher: string[]; mac: string[]; compress: string[]; lang: string[] };
    });
    lists: {
      kex: NameList;
      serverHostKey: NameList;
      cs: { cipher: NameList; mac: NameList; compress: NameList; lang: NameList };
      sc: { cipher: NameList; mac: NameList; compress: NameList; lang: NameList };
    };
  }
}
