// The ssh_config `hostward dev` writes: a `Host node` entry with the dev key and
// certificate, trusting the cluster's host CA, so `ssh -F …/ssh_config node` just works.
export function devSshConfig(o: { dir: string; port: number; login: string }): string {
  return `# Written by hostward dev. Use: ssh -F ${o.dir}/ssh_config node
Host node
  HostName 127.0.0.1
  Port ${o.port}
  User ${o.login}
  IdentityFile ${o.dir}/id_ed25519
  CertificateFile ${o.dir}/id_ed25519-cert.pub
  IdentitiesOnly yes
  UserKnownHostsFile ${o.dir}/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  PasswordAuthentication no
  KbdInteractiveAuthentication no
`;
}
