package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
)

// apiError is an error a client caused or must know about, with its HTTP status. Over REST it is
// answered as the protocol's error object {"error": "..."}; over gRPC as the matching status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, a ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) *apiError {
	return errorf(http.StatusBadRequest, format, a...)
}

// classify turns any error into an apiError: the batcher's and contexts' errors get their own
// statuses, anything else is an internal error.
func classify(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ErrQueueFull):
		return errorf(http.StatusTooManyRequests, "%v: retry later", err)
	case errors.Is(err, ErrClosed):
		return errorf(http.StatusServiceUnavailable, "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusGatewayTimeout, "deadline exceeded before the request was computed")
	case errors.Is(err, context.Canceled):
		return errorf(499, "request cancelled")
	}
	return errorf(http.StatusInternalServerError, "%v", err)
}

// grpcCode is the gRPC status code of an HTTP status.
func grpcCode(status int) codes.Code {
	switch status {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case 499:
		return codes.Canceled
	}
	return codes.Internal
}
