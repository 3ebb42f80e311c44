@modes @tunnel @severity:critical @docs=network/concepts/routing/
Feature: In tunnel mode pod traffic between nodes crosses the nodes' eth0 inside VXLAN
  With routingMode=tunnel (tunnelProtocol vxlan), Cilium routes every other node's pod CIDR to
  cilium_host with an MTU that leaves room for the outer headers, and its programs give each
  packet for a remote pod a tunnel key towards that node's IP and hand it to the cilium_vxlan
  device: the nodes' eth0 carry UDP 8472 between node IPs with the pod addresses inside, and
  the agent reports "Tunnel [vxlan]". Service translation is unchanged: the ClusterIP is still
  rewritten at tc, and kube-proxy's chains still count node and NodePort traffic.

  Background:
    Given a cluster from kind config "two-node.yaml"
    And Cilium is installed with:
      | routingMode          | tunnel     |
      | tunnelProtocol       | vxlan      |
      | autoDirectNodeRoutes | false      |
      | kubeProxyReplacement | false      |
      | ipam.mode            | kubernetes |
    And an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080
    And a client pod "client" on node "control-plane"
    And a ClusterIP service "echo-remote" port 80 backed only by the replica of "echo" on node "worker"

  Scenario: Cilium status reports tunnel routing with VXLAN
    Then cilium status on every node reports routing "Tunnel"
    And cilium status on every node reports tunnel protocol "vxlan"
    And cilium status on every node reports kube-proxy replacement "False"

  Scenario: Other nodes' pod CIDRs are routed through cilium_host, never via a node IP
    Then every node routes the pod CIDR of every other node through cilium_host with mtu 1450

  @requires:capture
  Scenario: Pod to pod across nodes crosses node eth0 inside VXLAN between the node IPs
    When pod "client" sends 4 HTTP requests to the "echo" replica on node "worker"
    Then all 4 requests succeed
    And a capture on pod "client" eth0 sees only backends of "echo-remote" as destination
    And a capture on node "control-plane" eth0 sees that traffic inside a VXLAN tunnel between the node IPs
    And a capture on node "worker" eth0 sees that traffic inside a VXLAN tunnel between the node IPs

  @requires:capture
  Scenario: The ClusterIP is translated before the tunnel: node eth0 carries the backend inside VXLAN
    When pod "client" sends 6 HTTP requests to service "echo-remote"
    Then all 6 requests succeed
    And a capture on pod "client" eth0 sees the ClusterIP of "echo-remote" as destination
    And a capture on node "control-plane" eth0 sees that traffic inside a VXLAN tunnel between the node IPs
    And the KUBE-SVC and KUBE-SEP counters of service "echo-remote" stay flat on every node

  @requires:monitor
  Scenario: cilium monitor shows the client's packets sent to the overlay
    When pod "client" sends 6 HTTP requests to service "echo-remote"
    Then all 6 requests succeed
    And cilium monitor on node "control-plane" shows the traffic from pod "client" sent to the overlay
    And cilium monitor on node "control-plane" shows traffic from pod "client" to the ClusterIP of "echo-remote" translated to a backend of "echo-remote"

  Scenario: Node to ClusterIP still goes through kube-proxy in tunnel mode
    When node "control-plane" sends 6 HTTP requests to service "echo-remote"
    Then all 6 requests succeed
    And the KUBE-SVC counters of service "echo-remote" rise by at least 6 on node "control-plane"
