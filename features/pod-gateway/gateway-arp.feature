@seed @pod-gateway @arp @docs=network/concepts/routing/
Feature: The pod's gateway is cilium_host, but ARP answers with the host veth
  The pod believes it sends to a gateway; in truth it enters the host through its veth pair,
  where the kernel and the tc programs take over.

  Background:
    Given a cluster from kind config "two-node.yaml"
    And Cilium is installed with:
      | routingMode           | native     |
      | kubeProxyReplacement  | false      |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |
    And an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080
    And a client pod "client" on node "control-plane"

  Scenario: The default gateway is cilium_host and its ARP entry resolves to the lxc veth MAC
    When pod "client" sends 1 HTTP request to service "echo"
    Then the default gateway of pod "client" is the cilium_host address of its node
    And the ARP entry of pod "client" for its gateway resolves to the MAC of its host-side veth
