@seed @capture-points @requires:capture @docs=network/ebpf/intro/
Feature: Where the ClusterIP is still visible depends on the capture point
  A capture on the pod's eth0 or its host veth sits before the tc rewrite and still sees the
  ClusterIP; past tc and routing, the node's eth0 sees the backend pod IP.

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

  Scenario: Pod eth0 and the host veth see the ClusterIP, node eth0 sees only the backend
    When pod "client" sends 6 HTTP requests to service "echo-remote"
    Then all 6 requests succeed
    And a capture on pod "client" eth0 sees the ClusterIP of "echo-remote" as destination
    And a capture on the host veth of pod "client" sees the ClusterIP of "echo-remote" as destination
    And a capture on node "control-plane" eth0 sees only backends of "echo-remote" as destination
