/*
 * A JVMTI agent that ends the JVM the moment it runs out of memory or threads, so that the pod
 * restarts instead of limping on: what the trino chart's jvm.config loads as
 * -agentpath:/usr/lib/trino/bin/libjvmkill.so (airlift's jvmkill, shipped in the upstream image
 * and published nowhere a registry here serves). Written for the suite's image from the JVMTI
 * specification: the ResourceExhausted event, then SIGKILL to itself.
 */
#include <jvmti.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void JNICALL exhausted(jvmtiEnv *jvmti, JNIEnv *jni, jint flags, const void *reserved,
                              const char *description) {
    (void)jvmti;
    (void)jni;
    (void)flags;
    (void)reserved;
    fprintf(stderr, "jvmkill: resource exhausted (%s): killing the JVM\n", description ? description : "?");
    fflush(stderr);
    kill(getpid(), SIGKILL);
}

JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved) {
    (void)options;
    (void)reserved;
    jvmtiEnv *jvmti;
    if ((*vm)->GetEnv(vm, (void **)&jvmti, JVMTI_VERSION_1_0) != JNI_OK) return JNI_ERR;
    jvmtiEventCallbacks callbacks;
    memset(&callbacks, 0, sizeof(callbacks));
    callbacks.ResourceExhausted = exhausted;
    if ((*jvmti)->SetEventCallbacks(jvmti, &callbacks, sizeof(callbacks)) != JVMTI_ERROR_NONE) return JNI_ERR;
    if ((*jvmti)->SetEventNotificationMode(jvmti, JVMTI_ENABLE, JVMTI_EVENT_RESOURCE_EXHAUSTED, NULL) !=
        JVMTI_ERROR_NONE)
        return JNI_ERR;
    return JNI_OK;
}
