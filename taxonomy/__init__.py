"""Support-queue automation-potential analytics."""
