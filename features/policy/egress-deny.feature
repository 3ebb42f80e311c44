@policy @docs=security/policy/language/#egress
Feature: A policy that selects a pod for egress and allows nothing stops its traffic as it leaves
  With policyTypes Egress and no egress rule, every new connection of the pod is dropped by the
  program of its own endpoint, before it leaves its node: the drop says "to endpoint 0".

  Background:
    Given a cluster from kind config "two-node.yaml"
    And Cilium is installed with:
      | routingMode           | native     |
      | kubeProxyReplacement  | false      |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |
    And an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080
    And a client pod "client" in namespace "default" on node "control-plane" with labels "app=client"
    And the network policy is applied:
      """
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata:
        name: client-no-egress
      spec:
        podSelector:
          matchLabels:
            app: client
        policyTypes:
          - Egress
      """

  Scenario: The client's requests time out and are dropped on its own node
    When pod "client" sends 3 HTTP requests to the "echo" replica on node "worker"
    Then every request times out
    And cilium monitor on node "control-plane" shows a policy denied drop from pod "client" to the replica of "echo" on node "worker"
    And cilium monitor on node "control-plane" shows a policy verdict deny from pod "client" to the replica of "echo" on node "worker"
