package org.apache.flink.streaming.examples.statemachine;

import dev.flinkoperatorts.examples.CountingJob;

/**
 * Answers to the entry class the upstream session-job example names ({@code basic-session-deployment-and-job.yaml}),
 * so that example runs unchanged against the local artifact host: Flink's own example jar is not on Maven Central
 * here, and this jar stands in for it. It runs {@link CountingJob}.
 */
public final class StateMachineExample {
    private StateMachineExample() {}

    public static void main(String[] args) throws Exception {
        CountingJob.main(args);
    }
}
