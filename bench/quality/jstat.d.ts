// The part of jstat (a CommonJS module without type definitions) that the quality bench uses.
declare module 'jstat' {
  const jstat: {
    jStat: {
      chisquare: {
        /** The p-quantile of the chi-squared distribution with dof degrees of freedom. */
        inv(p: number, dof: number): number;
      };
    };
  };
  export default jstat;
}
