@modes @native-routing @severity:critical @docs=network/concepts/routing/
Feature: In native routing pod traffic between nodes crosses the nodes' eth0 as it is
  The contrast to tunnel mode: with routingMode=native and autoDirectNodeRoutes, each node
  routes every other node's pod CIDR via that node's IP, and the nodes' eth0 carry the pod
  packets unencapsulated, the backend pod IP as destination.

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
    And a ClusterIP service "echo-remote" port 80 backed only by the replica of "echo" on node "worker"

  Scenario: Cilium status reports native routing
    Then cilium status on every node reports routing "Native"

  Scenario: Other nodes' pod CIDRs are routed via their node IPs
    Then every node routes the pod CIDR of every other node via that node's IP

  @requires:capture
  Scenario: Pod to a remote backend crosses node eth0 unencapsulated, the backend as destination
    When pod "client" sends 6 HTTP requests to service "echo-remote"
    Then all 6 requests succeed
    And a capture on node "control-plane" eth0 sees only backends of "echo-remote" as destination
    And a capture on node "worker" eth0 sees only backends of "echo-remote" as destination
