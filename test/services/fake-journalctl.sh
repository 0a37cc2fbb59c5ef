#!/bin/sh
echo "fake journal of $2: line 1"
echo "fake journal of $2: line 2"
