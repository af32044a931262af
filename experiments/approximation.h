// The paper's second-order view of the mixup loss (Zhang et al. 2021, Lemma 3.1 and Eq. 3).
//
// For α = β, mixup's loss equals  L_mix = (1/n) Σᵢ E_{λ~Beta(α+1,α)} E_r ℓ(xᵢ + (1−λ)(r − xᵢ), yᵢ)  with the
// partner r drawn from the training inputs, and to second order in (1−λ):
//   L_mix ≈ L_std + R1 + R2 + R3,  dᵢ = r − xᵢ,  Jᵢ = ∂f/∂x at xᵢ,  ℓ(z, y) = h(z) − yᵀz (h = logsumexp for CE)
//   R1 = E[(1−λ) (∇h(f(xᵢ)) − yᵢ)ᵀ Jᵢ dᵢ]          (= E[1−λ]/n Σᵢ (pᵢ − yᵢ)ᵀ Jᵢ (x̄ − xᵢ))
//   R2 = E[(1−λ)²/2 · (Jᵢdᵢ)ᵀ ∇²h(f(xᵢ)) (Jᵢdᵢ)]       (∇²h = diag p − ppᵀ for CE, I for the squared loss)
//   R3 = E[(1−λ)²/2 · Σₖ (∇h − yᵢ)ₖ dᵢᵀ ∇²fₖ(xᵢ) dᵢ]    (zero almost everywhere for ReLU nets in eval mode)
// Every expectation is a weighted sum over the same draws (weight, i, λ, partner j): Monte Carlo draws,
// or quadrature nodes in λ times every partner for exact expectations. Using the same draws for L_mix and
// for R1..R3 makes their difference exactly the Taylor remainder of those draws, so the error falls like
// the segment scale s when every dᵢ is shortened to s·dᵢ — the check that the terms are computed right.
// J d and the Hessian term come from double backward (exact, no finite differences).
#pragma once
#include <vector>

#include "experiments/attacks.h"

namespace mg::experiments {

enum class ApproxLoss { CrossEntropy, Squared };  // squared: ℓ = ‖f‖²/2 − yᵀf (= ‖f − y‖²/2 + const)

struct ApproxOptions {
  double alpha = 1.0;
  double scale = 1.0;        // segment scale s: partner r becomes xᵢ + s (r − xᵢ)
  int draws = 16;            // Monte Carlo draws per sample (ignored with quadrature)
  int quadrature = 0;        // > 0: exact expectations — this many Gauss–Legendre nodes in λ × every partner
  uint64_t seed = 0;
  ApproxLoss loss = ApproxLoss::CrossEntropy;
  int64_t batch = 256;       // pairs evaluated per pass
};

struct ApproxResult {
  double alpha = 0, scale = 0;
  double l_mix = 0, l_std = 0, r1 = 0, r2 = 0, r3 = 0;
  double rel_error = 0;      // |L_std + R1 + R2 + R3 − L_mix| / |L_mix|
  double rel_error_reg = 0;  // |R1 + R2 + R3 − (L_mix − L_std)| / |L_mix − L_std|
  double rel_error_second = 0;  // |(L_mix − L_std − R1) − (R2 + R3)| / |R2 + R3|: the second-order part alone
  int64_t samples = 0, pairs = 0;
};

// x: (n, ...) inputs of f, y: labels in [0, num_classes). f must be in eval mode (or have no randomness).
ApproxResult mixup_approximation(const Classifier& f, const Tensor& x, const std::vector<int64_t>& y,
                                 int64_t num_classes, const ApproxOptions& options);

// Moments of (1 − λ) for λ ~ Beta(α+1, α): E[1−λ] = α/(2α+1), E[(1−λ)²] = α/(2(2α+1)).
double mean_one_minus_lambda(double alpha);
double mean_sq_one_minus_lambda(double alpha);

// The paper's robustness radius ε_mix = R · c_x · E[1−λ] with R = minᵢ |cos(∇ₓℓ(xᵢ), xᵢ)| and
// c_x = minᵢ ‖xᵢ‖₂ / √d.
struct EpsMix {
  double eps_mix = 0, min_cos = 0, c_x = 0, mean_one_minus_lambda = 0;
};
EpsMix eps_mix(const Classifier& f, const Tensor& x, const std::vector<int64_t>& y, double alpha);

}  // namespace mg::experiments
