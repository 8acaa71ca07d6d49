#!/usr/bin/python3
# ssh-audit with a chosen client identification: the agent offers AES-GCM only to clients
# known to rank CTR above it (OpenSSH, which ssh-audit impersonates), CTR too to others.
# usage: ssh-audit-as.py SOFTWARE ssh-audit-args...
import sys
import ssh_audit.ssh_socket as ssh_socket
from ssh_audit.ssh_audit import main

ssh_socket.SSH_HEADER = "SSH-{0}-" + sys.argv[1]
sys.argv = ["ssh-audit"] + sys.argv[2:]
sys.exit(main())
